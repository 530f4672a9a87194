"""Red-code incidents: the district's procedure for them (steps and a phone, set here, sent to gates in the
bundle), the incidents gates report (kept once each, by id), and closing them.

A gate sends its incidents before its entry backlog (`POST /v1/gates/{gate}/incidents`), so an incident is on
the overview at once, however far behind the gate's entries are; it stays there until an official closes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from sync.core.clock import utc_text
from sync.core.i18n import N_, _
from sync.core.protocol import INCIDENT_OUTCOMES, IncidentProcedure, IncidentReport
from sync.hq.db import HqDatabase
from sync.hq.revisions import DISTRICT, bump
from sync.hq.tables import incidents, settings

PROCEDURE_KEY = "incident_procedure"
OUTCOME_LABELS = dict(zip(INCIDENT_OUTCOMES, (N_("sent home"), N_("waiting for the health team"), N_("left on their own"))))
"""How the overview words each of `INCIDENT_OUTCOMES` (through the catalogs; 'left' alone means 'let out')."""


class IncidentError(Exception):
    """A procedure or a closing was refused; nothing was changed. The message says why."""


def set_procedure(db: HqDatabase, procedure: IncidentProcedure | None) -> int:
    """Publish the procedure to every gate (None: stop publishing one); returns the new bundle version."""
    with db.begin() as conn:
        conn.execute(delete(settings).where(settings.c.key == PROCEDURE_KEY))
        if procedure is not None:
            conn.execute(insert(settings).values(key=PROCEDURE_KEY, value=procedure.model_dump_json()))
        return bump(conn, DISTRICT)


def procedure_in(conn: Connection) -> IncidentProcedure | None:
    """The published procedure, as bundles carry it."""
    text = conn.execute(select(settings.c.value).where(settings.c.key == PROCEDURE_KEY)).scalar()
    return None if text is None else IncidentProcedure.model_validate_json(text)


def store_report(conn: Connection, report: IncidentReport, now: datetime) -> int:
    """Keep the report's incidents HQ has not had (a gate sending one again changes nothing); how many were new."""
    ids = [i.id for i in report.incidents]
    known = set(conn.execute(select(incidents.c.id).where(incidents.c.id.in_(ids))).scalars())
    new = [
        {
            "id": i.id, "gate": report.gate, "entry_id": i.entry_id, "ts": i.ts, "subject": i.subject, "name": i.name,
            "colour": i.colour, "reasons": json.dumps(i.reasons, ensure_ascii=False), "outcome": i.outcome,
            "keeper": i.keeper, "received_at": utc_text(now),
        }
        for i in report.incidents
        if i.id not in known
    ]
    if new:
        conn.execute(insert(incidents), new)
    return len(new)


@dataclass(frozen=True)
class Incident:
    """An incident as the overview shows it. Everything but the times came from a gate: escape it."""

    id: str
    gate: str
    ts: str
    subject: str | None
    name: str
    colour: str
    reasons: list[str]
    outcome: str
    keeper: str

    @property
    def label(self) -> str:
        """The outcome's words, to be translated."""
        return OUTCOME_LABELS.get(self.outcome, self.outcome)


def open_incidents(conn: Connection, limit: int = 100) -> list[Incident]:
    """Incidents no official has closed, newest first."""
    rows = conn.execute(
        select(incidents).where(incidents.c.closed_at.is_(None)).order_by(incidents.c.ts.desc()).limit(limit)
    )
    return [
        Incident(r.id, r.gate, r.ts, r.subject, r.name, r.colour, json.loads(r.reasons), r.outcome, r.keeper)
        for r in rows
    ]


def close(db: HqDatabase, incident_id: str, by: str, now: datetime) -> None:
    """Close an open incident (it leaves the overview; the audit log keeps who closed it)."""
    with db.begin() as conn:
        closed = conn.execute(
            update(incidents)
            .where(incidents.c.id == incident_id, incidents.c.closed_at.is_(None))
            .values(closed_at=utc_text(now), closed_by=by)
        ).rowcount
    if not closed:
        raise IncidentError(_("no open incident {id}").format(id=incident_id[:26]))
