"""The gate's duty log: its own changes of state (shift on/off, camera lost/back, lists stale/fresh), chained and
kept in the gate's SQLite file under a migration set of its own ("pocket-gate-duty"), with the cursor of what HQ
has acknowledged. Only changes are recorded: a second "camera lost" while it is still lost is not an event.
The wire form, the chain and HQ's timeline are in `sync.core.duty`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database, Migrations
from ulid import ULID

from kiosk.store import GateStore
from sync.core.chain import GENESIS_HASH
from sync.core.clock import utc_text
from sync.core.duty import ASPECT_OF, ASPECTS, DutyKind, duty_hash

migrations = Migrations("pocket-gate-duty")
DUTY_BATCH_EVENTS = 2000
"""Duty events in one upload at most (`sync.core.duty.DutyBatch` takes no more)."""


@migrations()
def m001_duty_events(db: Database) -> None:
    db["duty_events"].create(
        {"seq": int, "id": str, "ts": str, "gate": str, "kind": str, "detail": str, "prev_hash": str, "hash": str},
        pk="seq",
        not_null={"id", "ts", "gate", "kind", "detail", "prev_hash", "hash"},
    )
    db["duty_sync"].create({"id": int, "cursor": int}, pk="id", not_null={"cursor"}, defaults={"cursor": 0})
    db["duty_sync"].insert({"id": 1})


class DutyLog:
    """Reads and writes the duty tables of one gate database (through its GateStore's connection)."""

    def __init__(self, store: GateStore) -> None:
        self.store = store
        with store.transaction() as db:
            migrations.apply(db)

    def note(self, kind: DutyKind, now: datetime | None = None, detail: str = "") -> bool:
        """Record `kind` if it changes the state of its aspect; True when it was recorded (and committed)."""
        moment = now or datetime.now(UTC)
        aspect = ASPECT_OF[kind]
        with self.store.transaction() as db:
            kinds = [k.value for k in ASPECTS[aspect]]
            last = db.execute(
                f"SELECT kind FROM duty_events WHERE kind IN ({','.join('?' * len(kinds))}) ORDER BY seq DESC LIMIT 1",
                kinds,
            ).fetchone()
            if last is not None and last[0] == kind.value:
                return False
            head = db.execute("SELECT seq, hash FROM duty_events ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev = (head[0], head[1]) if head else (0, GENESIS_HASH)
            row: dict[str, Any] = {
                "id": str(ULID.from_datetime(moment)),
                "seq": seq + 1,
                "ts": utc_text(moment),
                "gate": self.store.gate_id,
                "kind": kind.value,
                "detail": detail[:500],
                "prev_hash": prev,
            }
            row["hash"] = duty_hash(row)
            db["duty_events"].insert(row)
        return True

    def cursor(self) -> int:
        with self.store.reading() as db:
            return int(db.execute("SELECT cursor FROM duty_sync WHERE id = 1").fetchone()[0])

    def waiting_count(self) -> int:
        with self.store.reading() as db:
            return int(db.execute(
                "SELECT count(*) FROM duty_events WHERE seq > (SELECT cursor FROM duty_sync WHERE id = 1)"
            ).fetchone()[0])

    def waiting(self, limit: int = DUTY_BATCH_EVENTS) -> list[dict[str, Any]]:
        """The events HQ has not acknowledged, oldest first."""
        with self.store.reading() as db:
            rows = db.execute(
                "SELECT id, seq, ts, gate, kind, detail, prev_hash, hash FROM duty_events WHERE seq > "
                "(SELECT cursor FROM duty_sync WHERE id = 1) ORDER BY seq LIMIT ?",
                [limit],
            ).fetchall()
        names = ("id", "seq", "ts", "gate", "kind", "detail", "prev_hash", "hash")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def acknowledge(self, through_seq: int) -> None:
        """HQ holds every event up to `through_seq` (never moves back)."""
        with self.store.transaction() as db:
            db.execute("UPDATE duty_sync SET cursor = max(cursor, ?) WHERE id = 1", [through_seq])


def duty_batch_body(gate: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    """The upload body of a run of duty events (`sync.core.duty.DutyBatch`); its id names the run it carries."""
    return {"gate": gate, "batch_id": f"duty-{events[0]['seq']}-{events[-1]['seq']}", "events": events}
