"""HQ staff accounts and their sessions in the dashboard.

Passwords are hashed with Argon2id (argon2-cffi's defaults, re-hashed on sign-in when those defaults grow).
A session is a random 256-bit token in a cookie; HQ keeps only its SHA-256, as it does for gate tokens, so a
copy of the database signs nobody in. A session ends when it has been idle too long, when it reaches its
maximum age, on sign-out, and at once for every session of an account that is disabled or given a new
password. Each session carries its own CSRF token, which every form sends back (see `web.auth`).

Roles: a viewer sees the overview and runs tracing queries; an admin also changes rosters, lists, passes and
gates, and reads the audit log.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, insert, select, update

from sync.core.clock import utc_text
from sync.core.i18n import LANGUAGES, _
from sync.hq.db import HqDatabase
from sync.hq.tables import staff_sessions, staff_users

MIN_PASSWORD_LENGTH = 12
_USERNAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
_hasher = PasswordHasher()
_DECOY_HASH = _hasher.hash(secrets.token_urlsafe(16))
"""Checked against when the account does not exist, so that a wrong name costs as long as a wrong password."""
TOUCH_SECONDS = 60
"""A session's last activity is written at most this often (not on every page)."""


class Role(StrEnum):
    VIEWER = "viewer"
    ADMIN = "admin"


class StaffError(Exception):
    """An account change was refused; the message says why."""


@dataclass(frozen=True)
class StaffUser:
    username: str
    role: Role
    created_at: str
    disabled_at: str | None
    language: str | None = None
    """The account's own language for the dashboard; None: the district's."""

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def _check_username(username: str) -> None:
    if not _USERNAME.match(username):
        raise StaffError(_("{name!r} is not a user name: use 1-64 letters, digits, '.', '_', '@' or '-'").format(name=username))


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(_("a password needs at least {count} characters").format(count=MIN_PASSWORD_LENGTH))


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def add_user(db: HqDatabase, username: str, password: str, role: Role, now: datetime | None = None) -> StaffUser:
    _check_username(username)
    _check_password(password)
    moment = utc_text(_now(now))
    hashed = _hasher.hash(password)
    with db.begin() as conn:
        if conn.execute(select(staff_users.c.username).where(staff_users.c.username == username)).first():
            raise StaffError(_("user {user} exists already (use `pocket-hq users password {user}`)").format(user=username))
        conn.execute(
            insert(staff_users).values(
                username=username, password_hash=hashed, role=role.value, created_at=moment, password_changed_at=moment
            )
        )
    return StaffUser(username, role, moment, None)


def _change(db: HqDatabase, username: str, end_sessions: bool, **values: object) -> None:
    with db.begin() as conn:
        done = conn.execute(update(staff_users).where(staff_users.c.username == username).values(**values)).rowcount
        if not done:
            raise StaffError(_("no user {user}").format(user=username))
        if end_sessions:
            conn.execute(delete(staff_sessions).where(staff_sessions.c.username == username))


def set_password(db: HqDatabase, username: str, password: str, now: datetime | None = None) -> None:
    """A new password; every session of the account ends."""
    _check_password(password)
    _change(db, username, True, password_hash=_hasher.hash(password), password_changed_at=utc_text(_now(now)))


def set_role(db: HqDatabase, username: str, role: Role) -> None:
    _change(db, username, False, role=role.value)


def disable_user(db: HqDatabase, username: str, now: datetime | None = None) -> None:
    """The account can no longer sign in, and its sessions end at once (the audit log keeps its name)."""
    _change(db, username, True, disabled_at=utc_text(_now(now)))


def enable_user(db: HqDatabase, username: str) -> None:
    _change(db, username, False, disabled_at=None)


def set_language(db: HqDatabase, username: str, language: str | None) -> None:
    """The account's own language (one there is a catalog for), or None to follow the district's."""
    if language is not None and language not in LANGUAGES:
        raise StaffError(_("there is no catalog for {language!r}: choose one of {choices}").format(
            language=language, choices=", ".join(LANGUAGES)))
    _change(db, username, False, language=language)


def _user(row: object) -> StaffUser:
    return StaffUser(row.username, Role(row.role), row.created_at, row.disabled_at, row.language)  # type: ignore[attr-defined]


def list_users(db: HqDatabase) -> list[StaffUser]:
    with db.read() as conn:
        return [_user(row) for row in conn.execute(select(staff_users).order_by(staff_users.c.username))]


def check_password(db: HqDatabase, username: str, password: str) -> StaffUser | None:
    """The account when the name and password are right and it is enabled; None otherwise (same cost either
    way). Upgrades the stored hash when argon2-cffi's parameters have grown since it was made."""
    with db.read() as conn:
        row = conn.execute(select(staff_users).where(staff_users.c.username == username)).first()
    try:
        _hasher.verify(row.password_hash if row else _DECOY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled_at is not None:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        with db.begin() as conn:
            conn.execute(
                update(staff_users).where(staff_users.c.username == username).values(password_hash=_hasher.hash(password))
            )
    return _user(row)


# -- sessions ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionTimes:
    idle: timedelta
    """A session unused for this long ends."""
    longest: timedelta
    """No session lasts longer than this, however busy."""


@dataclass(frozen=True)
class Session:
    user: StaffUser
    csrf_token: str
    token_hash: str
    expires_at: str


class SessionEnded(Exception):
    """The cookie names no live session (expired, signed out, account disabled): sign in again."""


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(db: HqDatabase, user: StaffUser, times: SessionTimes, now: datetime | None = None) -> tuple[str, Session]:
    """A new session for a user who has just signed in: the cookie's token (shown once) and the session."""
    moment = _now(now)
    token = secrets.token_urlsafe(32)
    row = {
        "token_hash": _token_hash(token),
        "username": user.username,
        "csrf_token": secrets.token_urlsafe(32),
        "created_at": utc_text(moment),
        "last_seen_at": utc_text(moment),
        "expires_at": utc_text(moment + times.longest),
    }
    with db.begin() as conn:
        conn.execute(insert(staff_sessions).values(**row))
    return token, Session(user, row["csrf_token"], row["token_hash"], row["expires_at"])


def session_for(db: HqDatabase, token: str, times: SessionTimes, now: datetime | None = None) -> Session:
    """The live session a cookie's token names, its last activity moved on; raises SessionEnded otherwise."""
    moment = _now(now)
    token_hash = _token_hash(token)
    with db.read() as conn:
        row = conn.execute(
            select(staff_sessions, staff_users.c.role, staff_users.c.created_at.label("user_created_at"),
                   staff_users.c.disabled_at, staff_users.c.language)
            .join(staff_users, staff_users.c.username == staff_sessions.c.username)
            .where(staff_sessions.c.token_hash == token_hash)
        ).first()
    if row is None or row.disabled_at is not None:
        raise SessionEnded("signed out")
    last_seen = datetime.fromisoformat(row.last_seen_at)
    if row.expires_at <= utc_text(moment) or moment - last_seen > times.idle:
        end_session(db, token)
        raise SessionEnded("session expired")
    if (moment - last_seen).total_seconds() > TOUCH_SECONDS:
        with db.begin() as conn:
            conn.execute(
                update(staff_sessions).where(staff_sessions.c.token_hash == token_hash).values(last_seen_at=utc_text(moment))
            )
    user = StaffUser(row.username, Role(row.role), row.user_created_at, None, row.language)
    return Session(user, row.csrf_token, token_hash, row.expires_at)


def end_session(db: HqDatabase, token: str) -> None:
    with db.begin() as conn:
        conn.execute(delete(staff_sessions).where(staff_sessions.c.token_hash == _token_hash(token)))


def purge_sessions(conn: Connection, times: SessionTimes, now: datetime) -> int:
    """Forget sessions that have ended by age or idleness (housekeeping, in its transaction)."""
    return conn.execute(
        delete(staff_sessions).where(
            (staff_sessions.c.expires_at <= utc_text(now)) | (staff_sessions.c.last_seen_at < utc_text(now - times.idle))
        )
    ).rowcount
