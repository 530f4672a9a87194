"""One code entering at two gates: what only HQ can see. A gate knows who passed it (`[presence]` holds a second
entry without leaving there), but a screenshot of a resident's code shown at the north gate while the resident
walks in at the south gate passes both. HQ raises a `two_gates` alert when one subject is let in at two
different gates within the policy's `[presence] two_gates_window_minutes` of each other, without having been let
out at any gate in between (a resident who goes out by one gate and back in by another is no alarm).

Judged at ingest, in the batch's transaction, after its entries are stored: the later-uploaded side of a pair
raises the alert, whichever entered first (a gate that was offline uploads late and is still caught). On
PostgreSQL two gates' batches are ingested side by side, so each subject judged here is locked for the rest of
the transaction (an advisory lock, taken in a fixed order): two uploads of the same person cannot both miss
each other. SQLite has a single writer already.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, select, text

from sync.core.clock import utc_text
from sync.core.policy import PolicyError, read_policy
from sync.core.policy.rules.presence import PresenceRule
from sync.core.protocol import Alert, AlertKind
from sync.hq.lists import POLICY_KEY
from sync.hq.tables import entries, settings


def window_minutes(conn: Connection) -> int:
    """The published policy's window, else the field's default (HQ judges by what the gates were sent)."""
    stored = conn.execute(select(settings.c.value).where(settings.c.key == POLICY_KEY)).scalar()
    if stored is None:
        return PresenceRule().two_gates_window_minutes
    try:
        return read_policy(json.loads(stored)).policy.section(PresenceRule).two_gates_window_minutes
    except (ValueError, PolicyError):  # `policy show` says the stored policy is unreadable; ingest goes on
        return PresenceRule().two_gates_window_minutes


def two_gate_alerts(conn: Connection, gate_id: str, rows: list[dict[str, Any]]) -> list[Alert]:
    """Alerts for the stored `rows` of `gate_id` (already inserted in `conn`'s transaction) that let someone in
    who was let in at another gate within the window and not let out since (at most one alert per entry)."""
    minutes = window_minutes(conn)
    entering = [r for r in rows if r["subject"] and r["direction"] == "in" and r["verdict"] == "pass"]
    if minutes == 0 or not entering:
        return []
    if conn.dialect.name == "postgresql":
        for subject in sorted({r["subject"] for r in entering}):
            key = int.from_bytes(hashlib.sha256(subject.encode()).digest()[:8], "big", signed=True)
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    window = timedelta(minutes=minutes)
    found = []
    for row in entering:
        other = _other_gate_entry(conn, gate_id, row, window)
        if other is not None:
            first, second = sorted([(other.ts, other.gate), (row["ts"], gate_id)])
            found.append(Alert(kind=AlertKind.TWO_GATES, seq=row["seq"], detail=(
                f"the code of {row['name']} (subject {row['subject']}) entered at gate {first[1]} {first[0]} and at "
                f"gate {second[1]} {second[0]}, {_apart(first[0], second[0])} apart (policy: {minutes} min), "
                f"without leaving in between: one code on two phones? entries {other.id} and {row['id']}")))
    return found


def _other_gate_entry(conn: Connection, gate_id: str, row: dict[str, Any], window: timedelta) -> Row[Any] | None:
    """The nearest entry let in at another gate within `window` of `row`, with no exit of the same person (at any
    gate) between the two; None if there is none."""
    at = datetime.fromisoformat(row["ts"])
    counted = (entries.c.subject == row["subject"], entries.c.verdict == "pass", entries.c.superseded_by.is_(None))
    candidates = conn.execute(
        select(entries.c.id, entries.c.gate, entries.c.ts)
        .where(*counted, entries.c.direction == "in", entries.c.gate != gate_id,
               entries.c.ts.between(utc_text(at - window), utc_text(at + window)))
        .order_by(entries.c.ts)
        .limit(50)
    ).all()
    for other in sorted(candidates, key=lambda c: abs(datetime.fromisoformat(c.ts) - at)):
        low, high = sorted([other.ts, row["ts"]])
        left_between = conn.execute(
            select(entries.c.id).where(*counted, entries.c.direction == "out", entries.c.ts > low, entries.c.ts < high)
            .limit(1)
        ).first()
        if left_between is None:
            return other
    return None


def _apart(first: str, second: str) -> str:
    seconds = int((datetime.fromisoformat(second) - datetime.fromisoformat(first)).total_seconds())
    return f"{seconds // 60} min {seconds % 60:02d} s"
