"""HQ staff accounts and sessions on a real HQ database, at times the test sets: who may sign in, what each
change does to the account's sessions, and when a session ends (idle or too old), to the second."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from sync.hq.db import HqDatabase
from sync.hq.tables import staff_sessions, staff_users
from sync.hq.staff import (
    TOUCH_SECONDS,
    Role,
    SessionEnded,
    SessionTimes,
    StaffError,
    add_user,
    check_password,
    disable_user,
    enable_user,
    end_session,
    list_users,
    purge_sessions,
    session_for,
    set_password,
    set_role,
    start_session,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
TIMES = SessionTimes(idle=timedelta(minutes=30), longest=timedelta(hours=12))


@pytest.fixture
def db(tmp_path: Path) -> Iterator[HqDatabase]:
    database = HqDatabase(str(tmp_path / "hq.db"))
    database.upgrade()
    yield database
    database.dispose()


def sessions_of(db: HqDatabase, username: str) -> int:
    with db.read() as conn:
        return len(conn.execute(select(staff_sessions).where(staff_sessions.c.username == username)).all())


def test_accounts_are_listed_by_name_with_their_role(db: HqDatabase) -> None:
    add_user(db, "vera", PASSWORD, Role.VIEWER, now=T0)
    made = add_user(db, "ada", PASSWORD, Role.ADMIN, now=T0)

    assert (made.username, made.role, made.created_at, made.disabled_at, made.is_admin) == (
        "ada", Role.ADMIN, "2026-11-23T09:00:00.000+00:00", None, True)  # fmt: skip
    assert [(u.username, u.role, u.created_at) for u in list_users(db)] == [
        ("ada", Role.ADMIN, "2026-11-23T09:00:00.000+00:00"), ("vera", Role.VIEWER, "2026-11-23T09:00:00.000+00:00")]  # fmt: skip
    with pytest.raises(StaffError, match=r"^user ada exists already \(use `pocket-hq users password ada`\)$"):
        add_user(db, "ada", PASSWORD, Role.VIEWER)
    with pytest.raises(StaffError, match="^a password needs at least 12 characters$"):
        add_user(db, "bob", "x" * 11, Role.VIEWER)
    assert add_user(db, "bob", "x" * 12, Role.VIEWER).username == "bob"
    with pytest.raises(StaffError, match="is not a user name"):
        add_user(db, "no spaces", PASSWORD, Role.VIEWER)


def test_changing_a_role_keeps_the_sessions(db: HqDatabase) -> None:
    user = add_user(db, "vera", PASSWORD, Role.VIEWER)
    start_session(db, user, TIMES, T0)
    set_role(db, "vera", Role.ADMIN)
    assert [u.role for u in list_users(db)] == [Role.ADMIN] and sessions_of(db, "vera") == 1
    with pytest.raises(StaffError, match="^no user nobody$"):
        set_role(db, "nobody", Role.ADMIN)


def test_a_new_password_ends_every_session_and_only_it_signs_in(db: HqDatabase) -> None:
    user = add_user(db, "vera", PASSWORD, Role.VIEWER)
    start_session(db, user, TIMES, T0)
    set_password(db, "vera", "another long password", now=T0 + timedelta(hours=1))

    assert sessions_of(db, "vera") == 0
    assert check_password(db, "vera", PASSWORD) is None
    assert check_password(db, "vera", "another long password") is not None
    with db.read() as conn:
        changed = conn.execute(select(staff_users.c.password_changed_at)).scalar_one()
    assert changed == "2026-11-23T10:00:00.000+00:00"
    with pytest.raises(StaffError, match="^no user nobody$"):
        set_password(db, "nobody", "another long password")


def test_a_disabled_account_cannot_sign_in_until_enabled_and_its_sessions_end(db: HqDatabase) -> None:
    user = add_user(db, "vera", PASSWORD, Role.VIEWER)
    token, _ = start_session(db, user, TIMES, T0)
    disable_user(db, "vera", now=T0 + timedelta(minutes=5))

    assert sessions_of(db, "vera") == 0
    assert list_users(db)[0].disabled_at == "2026-11-23T09:05:00.000+00:00"
    assert check_password(db, "vera", PASSWORD) is None
    with pytest.raises(SessionEnded, match="^signed out$"):
        session_for(db, token, TIMES, T0 + timedelta(minutes=6))

    enable_user(db, "vera")
    assert list_users(db)[0].disabled_at is None and check_password(db, "vera", PASSWORD) is not None
    with pytest.raises(StaffError, match="^no user nobody$"):
        enable_user(db, "nobody")
    with pytest.raises(StaffError, match="^no user nobody$"):
        disable_user(db, "nobody")


def test_a_session_lives_until_idle_or_too_old_to_the_second(db: HqDatabase) -> None:
    user = add_user(db, "vera", PASSWORD, Role.ADMIN)
    token, session = start_session(db, user, TIMES, T0)
    assert session.expires_at == "2026-11-23T21:00:00.000+00:00" and session.user.is_admin

    found = session_for(db, token, TIMES, T0 + TIMES.idle)  # idle exactly the limit: still alive
    assert (found.user.username, found.user.role, found.csrf_token) == ("vera", Role.ADMIN, session.csrf_token)
    with pytest.raises(SessionEnded, match="^session expired$"):
        session_for(db, token, TIMES, T0 + TIMES.idle * 2 + timedelta(seconds=1))
    assert sessions_of(db, "vera") == 0  # an expired session is gone, not just refused


def test_activity_moves_the_idle_limit_on_but_not_the_longest(db: HqDatabase) -> None:
    user = add_user(db, "vera", PASSWORD, Role.VIEWER)
    token, _ = start_session(db, user, TIMES, T0)
    moment = T0
    while moment + TIMES.idle < T0 + TIMES.longest:
        moment += TIMES.idle - timedelta(minutes=1)
        session_for(db, token, TIMES, moment)  # busy all day: each request keeps it alive
    with pytest.raises(SessionEnded, match="^session expired$"):
        session_for(db, token, TIMES, T0 + TIMES.longest)


def test_last_activity_is_written_at_most_once_a_minute(db: HqDatabase) -> None:
    user = add_user(db, "vera", PASSWORD, Role.VIEWER)
    token, _ = start_session(db, user, TIMES, T0)

    def last_seen() -> str:
        with db.read() as conn:
            return str(conn.execute(select(staff_sessions.c.last_seen_at)).scalar_one())

    session_for(db, token, TIMES, T0 + timedelta(seconds=TOUCH_SECONDS))
    assert last_seen() == "2026-11-23T09:00:00.000+00:00"
    session_for(db, token, TIMES, T0 + timedelta(seconds=TOUCH_SECONDS + 1))
    assert last_seen() == "2026-11-23T09:01:01.000+00:00"


def purged(db: HqDatabase, times: SessionTimes, now: datetime) -> int:
    """Sessions forgotten by housekeeping at `now` (it runs in a transaction of the job's)."""
    with db.begin() as conn:
        return purge_sessions(conn, times, now)


def test_signing_out_and_purging_forget_sessions(db: HqDatabase) -> None:
    user = add_user(db, "vera", PASSWORD, Role.VIEWER)
    first, _ = start_session(db, user, TIMES, T0)
    start_session(db, user, TIMES, T0 + timedelta(hours=1))
    end_session(db, first)
    with pytest.raises(SessionEnded, match="^signed out$"):
        session_for(db, first, TIMES, T0)
    assert sessions_of(db, "vera") == 1

    assert purged(db, TIMES, T0 + timedelta(hours=1) + TIMES.idle) == 0
    assert purged(db, TIMES, T0 + timedelta(hours=1) + TIMES.idle + timedelta(seconds=1)) == 1
    assert sessions_of(db, "vera") == 0


def test_a_session_is_purged_the_moment_it_reaches_its_longest(db: HqDatabase) -> None:
    user = add_user(db, "vera", PASSWORD, Role.VIEWER)
    short = SessionTimes(idle=timedelta(hours=24), longest=timedelta(hours=1))
    start_session(db, user, short, T0)
    assert purged(db, short, T0 + timedelta(minutes=59, seconds=59)) == 0
    assert purged(db, short, T0 + timedelta(hours=1)) == 1
