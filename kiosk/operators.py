"""Gate keepers who may sign in at the kiosk, their PINs and their shifts.

PINs are never stored: each is an Argon2id hash with its own random salt (argon2-cffi, RFC 9106 low-memory
profile), so a copied gate database does not give away anyone's PIN and two keepers with the same PIN have
different hashes. The tables live in the gate's own SQLite file but in their own sqlite-utils migration set
("pocket-gate-operators"), so they evolve apart from the entry log's schema.

A shift runs from sign-in to sign-out; every entry logged in it carries the operator's id, and the handover
summary (`kiosk.shift`) is read back from the entry log for the shift's time span.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlite_utils import Database, Migrations
from ulid import ULID

from sync.core.clock import utc_text

migrations = Migrations("pocket-gate-operators")

OPERATOR_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
PIN_PATTERN = re.compile(r"^[0-9]{4,12}$")
MAX_NAME_CHARS = 64


@migrations()
def m001_operators(db: Database) -> None:
    db["operators"].create(
        {"id": str, "name": str, "pin_hash": str, "created_at": str, "disabled": int},
        pk="id",
        not_null={"name", "pin_hash", "created_at", "disabled"},
        defaults={"disabled": 0},
    )
    db["shifts"].create(
        {"id": str, "operator": str, "started_at": str, "ended_at": str},
        pk="id",
        not_null={"operator", "started_at"},
    )
    db["shifts"].create_index(["operator", "started_at"])


class OperatorError(Exception):
    """An operator cannot be added or changed; the message says why in the keeper's words."""


@dataclass(frozen=True)
class Operator:
    id: str
    name: str


@dataclass(frozen=True)
class Shift:
    id: str
    operator: Operator
    started_at: datetime
    ended_at: datetime | None = None


def operator_id_problem(operator_id: str) -> str | None:
    if not OPERATOR_ID_PATTERN.fullmatch(operator_id):
        return "an operator id is 1-32 letters, digits, '.', '_' or '-'"
    return None


def pin_problem(pin: str) -> str | None:
    if not PIN_PATTERN.fullmatch(pin):
        return "a PIN is 4 to 12 digits"
    return None


class OperatorBook:
    """The operators and shifts tables of one gate database (its own connection, safe across threads)."""

    def __init__(self, path: Path, hasher: PasswordHasher | None = None) -> None:
        self.path = path
        self._hasher = hasher or PasswordHasher()
        self._lock = threading.RLock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), check_same_thread=False, timeout=10)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            self.db = Database(conn)
            migrations.apply(self.db)
        except (sqlite3.Error, OSError) as exc:
            raise OperatorError(f"cannot open the operators in {path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def __enter__(self) -> OperatorBook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- operators ---------------------------------------------------------------------------------------

    def add(self, operator_id: str, name: str, pin: str, *, replace: bool = False) -> Operator:
        """Add an operator (or, with `replace`, reset an existing one's name and PIN)."""
        name = " ".join(name.split())
        problem = operator_id_problem(operator_id) or pin_problem(pin)
        if not name or len(name) > MAX_NAME_CHARS:
            problem = problem or f"a name is 1 to {MAX_NAME_CHARS} characters"
        if problem:
            raise OperatorError(problem)
        row = {
            "id": operator_id,
            "name": name,
            "pin_hash": self._hasher.hash(pin),
            "created_at": utc_text(datetime.now(UTC)),
            "disabled": 0,
        }
        with self._lock, self.db.atomic():
            exists = self.db.execute("SELECT 1 FROM operators WHERE id = ?", [operator_id]).fetchone()
            if exists and not replace:
                raise OperatorError(f"operator {operator_id} already exists (use --replace to reset the PIN)")
            self.db["operators"].upsert(row, pk="id")
        return Operator(operator_id, name)

    def remove(self, operator_id: str) -> None:
        """Disable an operator: they can no longer sign in; their past entries keep their id."""
        with self._lock, self.db.atomic():
            changed = self.db.execute(
                "UPDATE operators SET disabled = 1 WHERE id = ? AND disabled = 0", [operator_id]
            ).rowcount
        if not changed:
            raise OperatorError(f"no active operator {operator_id}")

    def operators(self) -> list[Operator]:
        with self._lock:
            rows = self.db.execute("SELECT id, name FROM operators WHERE disabled = 0 ORDER BY id").fetchall()
        return [Operator(row[0], row[1]) for row in rows]

    def verify(self, operator_id: str, pin: str) -> Operator | None:
        """The operator if the id is active and the PIN matches, else None (never says which was wrong)."""
        with self._lock:
            row = self.db.execute(
                "SELECT id, name, pin_hash FROM operators WHERE id = ? AND disabled = 0", [operator_id]
            ).fetchone()
        if row is None:
            # Spend the same time as a real check, so timing does not tell which ids exist.
            self._hasher.hash(pin or "0000")
            return None
        try:
            self._hasher.verify(row[2], pin)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if self._hasher.check_needs_rehash(row[2]):
            with self._lock, self.db.atomic():
                self.db["operators"].update(row[0], {"pin_hash": self._hasher.hash(pin)})
        return Operator(row[0], row[1])

    # -- shifts ------------------------------------------------------------------------------------------

    def start_shift(self, operator: Operator, now: datetime | None = None) -> Shift:
        moment = now or datetime.now(UTC)
        shift = Shift(str(ULID.from_datetime(moment)), operator, moment)
        with self._lock, self.db.atomic():
            self.db["shifts"].insert(
                {"id": shift.id, "operator": operator.id, "started_at": utc_text(moment), "ended_at": None}
            )
        return shift

    def end_shift(self, shift: Shift, now: datetime | None = None) -> Shift:
        moment = now or datetime.now(UTC)
        with self._lock, self.db.atomic():
            self.db["shifts"].update(shift.id, {"ended_at": utc_text(moment)})
        return Shift(shift.id, shift.operator, shift.started_at, moment)
