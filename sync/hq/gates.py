"""Enrolled gates and their tokens. A token is shown once, when it is made; HQ keeps only its SHA-256.

Tokens are 256 random bits, so a plain SHA-256 is enough to make a stolen database useless for logging in
(there is nothing to guess), and it lets HQ find the gate by the token's hash in one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import bindparam, case, func, insert, or_, select, update

from sync.core.i18n import _
from sync.core.chain import GENESIS_HASH
from sync.core.clock import utc_text
from sync.hq.db import HqDatabase
from sync.hq.tables import alerts, entries, gates
from sync.hq.revisions import bump, gate_scope
from sync.core.protocol import GateId

TOKEN_PREFIX = "pgt_"
_GATE_ID: TypeAdapter[str] = TypeAdapter(GateId)


class GateError(Exception):
    """A gate command cannot be carried out (unknown gate, already enrolled...); the message says why."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _check_id(gate_id: str) -> None:
    try:
        _GATE_ID.validate_python(gate_id)
    except ValidationError as exc:
        raise GateError(_("{gate!r} is not a gate id: use 1-64 letters, digits, '.', '_' or '-'").format(gate=gate_id)) from exc


def add_gate(db: HqDatabase, gate_id: str, now: datetime | None = None) -> str:
    """Enrol a gate; return its token (the only time it is ever visible)."""
    _check_id(gate_id)
    token = new_token()
    moment = utc_text(now or datetime.now(UTC))
    with db.begin() as conn:
        if conn.execute(select(gates.c.gate_id).where(gates.c.gate_id == gate_id)).first() is not None:
            raise GateError(_("gate {gate} is already enrolled; use `pocket-hq gates token {gate}` for a new token").format(
                gate=gate_id))
        conn.execute(
            insert(gates).values(
                gate_id=gate_id, token_hash=token_hash(token), created_at=moment, chain_seq=0, chain_hash=GENESIS_HASH
            )
        )
        bump(conn, gate_scope(gate_id))
    return token


def replace_token(db: HqDatabase, gate_id: str) -> str:
    """A new token for an enrolled gate (a replaced laptop, a leaked token); the old one stops working, and a
    revoked gate is re-admitted. The gate's history and chain position are kept."""
    token = new_token()
    with db.begin() as conn:
        done = conn.execute(
            update(gates).where(gates.c.gate_id == gate_id).values(token_hash=token_hash(token), revoked_at=None)
        ).rowcount
    if not done:
        raise GateError(_("no gate {gate} is enrolled").format(gate=gate_id))
    return token


def rekey_gate(db: HqDatabase, gate_id: str) -> tuple[str, int]:
    """After a gate laptop is lost: a new token and the next generation of the gate's key. The old token is
    refused from now on (401), and the gate's next bundle is hashed under the new key, so rows on the lost
    laptop match nothing that is sent from now on. Returns the token (shown once) and the key generation."""
    token = new_token()
    with db.begin() as conn:
        done = conn.execute(
            update(gates)
            .where(gates.c.gate_id == gate_id)
            .values(token_hash=token_hash(token), revoked_at=None, key_generation=gates.c.key_generation + 1)
        ).rowcount
        if not done:
            raise GateError(_("no gate {gate} is enrolled").format(gate=gate_id))
        generation = conn.execute(select(gates.c.key_generation).where(gates.c.gate_id == gate_id)).scalar_one()
        bump(conn, gate_scope(gate_id))
    return token, int(generation)


def revoke_gate(db: HqDatabase, gate_id: str, now: datetime | None = None) -> None:
    """Refuse the gate's token from now on; what it uploaded stays."""
    with db.begin() as conn:
        done = conn.execute(
            update(gates)
            .where(gates.c.gate_id == gate_id, gates.c.revoked_at.is_(None))
            .values(revoked_at=utc_text(now or datetime.now(UTC)))
        ).rowcount
    if not done:
        raise GateError(_("no enrolled, unrevoked gate {gate}").format(gate=gate_id))


@dataclass(frozen=True)
class GateRow:
    gate_id: str
    created_at: str
    revoked_at: str | None
    chain_seq: int
    last_seen_at: str | None
    last_upload_at: str | None
    entries: int
    alerts: int


def list_gates(db: HqDatabase) -> list[GateRow]:
    entry_counts = select(entries.c.gate, func.count().label("n")).group_by(entries.c.gate).subquery()
    alert_counts = select(alerts.c.gate, func.count().label("n")).group_by(alerts.c.gate).subquery()
    query = (
        select(
            gates.c.gate_id,
            gates.c.created_at,
            gates.c.revoked_at,
            gates.c.chain_seq,
            gates.c.last_seen_at,
            gates.c.last_upload_at,
            func.coalesce(entry_counts.c.n, 0),
            func.coalesce(alert_counts.c.n, 0),
        )
        .outerjoin(entry_counts, entry_counts.c.gate == gates.c.gate_id)
        .outerjoin(alert_counts, alert_counts.c.gate == gates.c.gate_id)
        .order_by(gates.c.gate_id)
    )
    with db.read() as conn:
        return [GateRow(*row) for row in conn.execute(query)]


def list_alerts(db: HqDatabase, gate_id: str | None = None) -> list[dict[str, object]]:
    """Alerts in the order they were raised, of one gate or all."""
    query = select(alerts).order_by(alerts.c.id)
    if gate_id:
        query = query.where(alerts.c.gate == gate_id)
    with db.read() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


@dataclass(frozen=True)
class Authenticated:
    gate_id: str
    chain_seq: int
    chain_hash: str


class AuthError(Exception):
    """A request's token is missing, unknown, revoked or for another gate. `status` is 401 or 403."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def authenticate(db: HqDatabase, token: str | None, gate_id: str | None) -> Authenticated:
    """The gate a bearer token belongs to; with `gate_id`, also check the token is that gate's."""
    if not token:
        raise AuthError(401, "no gate token: send 'Authorization: Bearer <token>'")
    with db.read() as conn:
        row = conn.execute(
            select(gates.c.gate_id, gates.c.revoked_at, gates.c.chain_seq, gates.c.chain_hash).where(
                gates.c.token_hash == token_hash(token)
            )
        ).first()
    if row is None:
        raise AuthError(401, "unknown gate token")
    if row.revoked_at is not None:
        raise AuthError(401, f"gate {row.gate_id} was revoked at {row.revoked_at}; ask HQ to re-enrol it")
    if gate_id is not None and row.gate_id != gate_id:
        raise AuthError(403, f"this token belongs to another gate, not {gate_id}")
    return Authenticated(row.gate_id, row.chain_seq, row.chain_hash)


class Sightings:
    """When each gate was last heard from (and which bundle version it last fetched), written in batches.

    A gate asking for its bundle every minute should not cost HQ a write transaction each time: sightings
    are kept in memory and `flush()`ed together (the server does so every second and on shutdown). Several HQ
    processes flush their own; a flush never moves a gate's last contact or bundle version back, so the order
    in which they land does not matter."""

    def __init__(self, db: HqDatabase) -> None:
        self.db = db
        self._pending: dict[str, tuple[str, int | None]] = {}
        self._lock = threading.Lock()

    def note(self, gate_id: str, now: datetime, bundle_version: int | None = None) -> None:
        with self._lock:
            _seen, known = self._pending.get(gate_id, ("", None))
            self._pending[gate_id] = (utc_text(now), bundle_version if bundle_version is not None else known)

    def flush(self) -> int:
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return 0
        seen, version = bindparam("seen"), bindparam("version")
        statement = (
            update(gates)
            .where(gates.c.gate_id == bindparam("gate"))
            .values(
                last_seen_at=case(
                    (or_(gates.c.last_seen_at.is_(None), gates.c.last_seen_at < seen), seen), else_=gates.c.last_seen_at
                ),
                bundle_version_fetched=case(
                    (or_(gates.c.bundle_version_fetched.is_(None), gates.c.bundle_version_fetched < version), version),
                    else_=gates.c.bundle_version_fetched,
                ),
            )
        )
        with self.db.begin() as conn:
            conn.execute(
                statement, [{"gate": gate, "seen": seen, "version": version} for gate, (seen, version) in pending.items()]
            )
        return len(pending)
