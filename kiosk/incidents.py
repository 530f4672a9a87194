"""Red-code incidents, the gate's side: which refusals are incidents, the district's procedure (from HQ's bundle),
what the keeper recorded was done, and which incidents HQ has not had yet.

An incident is a refused entry whose colour is red (a red code, or a green code of a red-listed person: the
verdict's colour is the one in force after the list). The keeper records one of `INCIDENT_OUTCOMES`; the
incident is kept in the gate's database (table `incidents`, this module's own migration set) and sent to HQ
before the entry backlog (`kiosk.uplink.client`), once: HQ keeps each by its id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database, Migrations
from ulid import ULID

from kiosk.gate import Outcome
from kiosk.store import GateStore
from sync.core.clock import utc_text
from sync.core.codes.base import Colour
from sync.core.i18n import N_
from sync.core.policy import Decision
from sync.core.protocol import INCIDENT_OUTCOMES, IncidentProcedure, WireIncident

PROCEDURE_META = "incident_procedure"
"""Meta key holding the procedure HQ's bundle carries, as JSON (absent: HQ set none)."""
OUTCOME_LABELS = dict(zip(INCIDENT_OUTCOMES, (N_("sent home"), N_("waiting for the health team"), N_("left on their own"))))
"""How the keeper reads each of `INCIDENT_OUTCOMES` (through the catalogs; 'left' alone already means 'let out')."""
migrations = Migrations("pocket-gate-incidents")


@migrations()
def m001_incidents(db: Database) -> None:
    db["incidents"].create({"id": str, "body": str, "sent": int}, pk="id", not_null={"body", "sent"})
    db["incidents"].create_index(["sent", "id"])


def is_incident(outcome: Outcome) -> bool:
    """A logged refusal of someone whose colour in force is red (a red code, or on HQ's red list)."""
    verdict = outcome.assessment.verdict
    return outcome.entry is not None and verdict.decision is Decision.REFUSE and verdict.colour is Colour.RED


def keep_procedure(store: GateStore, procedure: IncidentProcedure | None) -> None:
    """Keep the bundle's procedure (inside the bundle's transaction), or forget it when HQ sets none."""
    if procedure is None:
        store.db.execute("DELETE FROM meta WHERE key = ?", [PROCEDURE_META])
    else:
        store.set_meta({PROCEDURE_META: procedure.model_dump_json()})


def procedure_of(store: GateStore) -> IncidentProcedure | None:
    text = store.get_meta(PROCEDURE_META)
    return None if text is None else IncidentProcedure.model_validate_json(text)


@dataclass(frozen=True)
class Recorded:
    id: str
    outcome: str


def record_incident(store: GateStore, refused: Outcome, done: str, keeper: str, now: datetime) -> Recorded:
    """Keep what the keeper did (`done`, one of `INCIDENT_OUTCOMES`) about a refused red entry, to be sent to HQ
    ahead of the backlog."""
    if done not in INCIDENT_OUTCOMES or refused.entry is None:
        raise ValueError(f"not an incident outcome: {done!r}")
    row = refused.entry.row
    incident = WireIncident.model_validate({
        "id": str(ULID.from_datetime(now)), "entry_id": row["id"], "ts": utc_text(now), "subject": row.get("subject"),
        "name": row.get("name") or "", "colour": row.get("colour") or "",
        "reasons": list(refused.assessment.verdict.reasons), "outcome": done, "keeper": keeper,
    })
    with store.transaction() as db:
        migrations.apply(db)
        db["incidents"].insert({"id": incident.id, "body": incident.model_dump_json(), "sent": 0})
    return Recorded(incident.id, done)


def unsent(store: GateStore, limit: int) -> list[WireIncident]:
    """Incidents HQ has not acknowledged, oldest first."""
    with store.reading() as db:
        if not db["incidents"].exists():
            return []
        rows = db.execute("SELECT body FROM incidents WHERE sent = 0 ORDER BY id LIMIT ?", [limit]).fetchall()
    return [WireIncident.model_validate(json.loads(body)) for (body,) in rows]


def mark_sent(store: GateStore, ids: list[str]) -> None:
    with store.transaction() as db:
        db.conn.executemany("UPDATE incidents SET sent = 1 WHERE id = ?", [[i] for i in ids])
