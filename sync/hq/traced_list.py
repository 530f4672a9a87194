"""From a trace to the gates in one step: people an official selects on a tracing result go on the red/yellow
list by their subject (no ID number needed), with a reason and an expiry, until they lapse by themselves.

They are kept apart from the uploaded list (`traced_colour`): an upload replaces the uploaded list whole and
never drops them. Each change takes the district's next bundle version (see `revisions`), so gates receive it
like any list change; every row carries its expiry to the gate (`ColourRow.until`), which stops holding the
person at that moment even if it cannot sync. Red beats yellow: someone already on the uploaded list at the
same or a stronger colour is left as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select

from sync.core.clock import utc_text
from sync.core.i18n import _
from sync.hq.db import HqDatabase
from sync.hq.lists import COLOUR_LIST_SCOPE, ListError
from sync.hq.revisions import DISTRICT, bump, stamp
from sync.hq.tables import colour_list, entries, roster, traced_colour

MAX_PEOPLE = 500
"""The most people one step puts on the list: a tracing page shows fewer; more is an upload's job."""
MAX_DAYS = 90
"""The longest an entry from a trace lasts: a longer hold is a decision for the uploaded list."""
MAX_REASON = 200
COLOURS = ("yellow", "red")
_STRENGTH = {None: 0, "yellow": 1, "red": 2}
_SUBJECT = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Request:
    """What an official asks for, checked (`checked_request`)."""

    subjects: tuple[str, ...]
    colour: str
    reason: str
    until: datetime
    trace: str
    """The tracing result's link (path and query): where these people were found."""


@dataclass(frozen=True)
class Proposal:
    """One selected person, and what putting them on the list would change."""

    subject: str
    name: str
    before: str | None
    """Their colour on the list now (uploaded or traced, whichever is stronger), or None."""
    source: str | None
    """'upload' or 'trace' for `before`."""
    change: str
    """'added', 'changed' (a traced entry replaced or an uploaded yellow made red), or 'unchanged'."""


def checked_request(subjects: list[str], colour: str, reason: str, days: str, trace: str, now: datetime) -> Request:
    """The request, or a ListError saying what is wrong with it (nothing is changed either way)."""
    chosen = tuple(dict.fromkeys(s.strip() for s in subjects if s.strip()))
    if not chosen:
        raise ListError(_("select at least one person"))
    if len(chosen) > MAX_PEOPLE:
        raise ListError(_("at most {most} people at once").format(most=MAX_PEOPLE))
    if any(not _SUBJECT.match(s) for s in chosen):
        raise ListError(_("a selected person is not a subject (32 hexadecimal characters)"))
    if colour not in COLOURS:
        raise ListError(_("choose yellow or red"))
    reason = " ".join(reason.split())
    if not reason:
        raise ListError(_("give a reason (gates receive it as the list note)"))
    if len(reason) > MAX_REASON:
        raise ListError(_("the reason is longer than {most} characters").format(most=MAX_REASON))
    try:
        length = float(days)
    except ValueError as exc:
        raise ListError(_("the expiry must be a number of days")) from exc
    if not 0.01 <= length <= MAX_DAYS:
        raise ListError(_("an entry from a trace lasts between 0.01 and {most} days").format(most=MAX_DAYS))
    if not trace.startswith("/trace/"):
        raise ListError(_("say which tracing result these people come from"))
    return Request(chosen, colour, reason, now + timedelta(days=length), trace[:2000])


def _uploaded(conn: Connection, subjects: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    rows = conn.execute(
        select(colour_list.c.subject, colour_list.c.colour, colour_list.c.name).where(colour_list.c.subject.in_(subjects))
    )
    return {r.subject: (r.colour, r.name) for r in rows}


def _traced(conn: Connection, subjects: tuple[str, ...], now: datetime) -> dict[str, str]:
    rows = conn.execute(
        select(traced_colour.c.subject, traced_colour.c.colour).where(
            traced_colour.c.subject.in_(subjects), traced_colour.c.until > utc_text(now)
        )
    )
    return {r.subject: r.colour for r in rows}


def _names(conn: Connection, subjects: tuple[str, ...]) -> dict[str, str]:
    """Masked names HQ knows (a roster, else the newest passage's), for the official to see whom they act on."""
    found = {r.subject: r.name for r in conn.execute(
        select(roster.c.subject, roster.c.name).where(roster.c.subject.in_(subjects), roster.c.name != "")
    )}
    for subject in subjects:
        if subject not in found:
            name = conn.execute(
                select(entries.c.name).where(entries.c.subject == subject, entries.c.name.is_not(None), entries.c.name != "")
                .order_by(entries.c.ts.desc()).limit(1)
            ).scalar()
            found[subject] = name or ""
    return found


def preview(conn: Connection, request: Request, now: datetime) -> list[Proposal]:
    """What the request would change, person by person (nothing is changed)."""
    uploaded, traced, names = _uploaded(conn, request.subjects), _traced(conn, request.subjects, now), _names(conn, request.subjects)
    proposals = []
    for subject in request.subjects:
        upload_colour, upload_name = uploaded.get(subject, (None, ""))
        trace_colour = traced.get(subject)
        before, source = (trace_colour, "trace") if _STRENGTH[trace_colour] > _STRENGTH[upload_colour] else (
            (upload_colour, "upload") if upload_colour else (None, None)
        )
        if _STRENGTH[upload_colour] >= _STRENGTH[request.colour]:
            change = "unchanged"
        elif trace_colour is None and upload_colour is None:
            change = "added"
        else:
            change = "changed"
        proposals.append(Proposal(subject, names.get(subject) or upload_name, before, source, change))
    return proposals


def put_on_list(db: HqDatabase, request: Request, by: str, now: datetime) -> tuple[int, int]:
    """Put the request's people on the list (all or none, in one transaction); returns (people changed, bundle
    version). People on the uploaded list at the same or a stronger colour are left alone."""
    with db.begin() as conn:
        changing = [p for p in preview(conn, request, now) if p.change != "unchanged"]
        if not changing:
            raise ListError(_("nothing to change: everyone selected is already on the uploaded list at that colour or red"))
        subjects = [p.subject for p in changing]
        conn.execute(delete(traced_colour).where(traced_colour.c.subject.in_(subjects)))
        conn.execute(insert(traced_colour), [
            {
                "subject": p.subject, "colour": request.colour, "reason": request.reason,
                "until": utc_text(request.until), "trace": request.trace, "added_by": by, "added_at": utc_text(now),
                "name": p.name,
            }
            for p in changing
        ])
        version = bump(conn, DISTRICT)
        stamp(conn, COLOUR_LIST_SCOPE, version)
    return len(changing), version


def remove(db: HqDatabase, subject: str) -> int:
    """Take one traced entry off before it lapses; returns the new bundle version."""
    with db.begin() as conn:
        if not conn.execute(delete(traced_colour).where(traced_colour.c.subject == subject)).rowcount:
            raise ListError(_("no entry from a trace for that person"))
        version = bump(conn, DISTRICT)
        stamp(conn, COLOUR_LIST_SCOPE, version)
        return version


@dataclass(frozen=True)
class Entry:
    """A traced entry as the list page shows it."""

    subject: str
    colour: str
    reason: str
    until: str
    trace: str
    added_by: str
    added_at: str
    name: str
    lapsed: bool


def listed(conn: Connection, now: datetime, limit: int = 1000) -> list[Entry]:
    """Traced entries, those in force first (soonest to lapse first), then the lapsed ones (newest first)."""
    rows = conn.execute(select(traced_colour).order_by(traced_colour.c.until).limit(limit)).all()
    moment = utc_text(now)
    shown = [Entry(**r._mapping, lapsed=r.until <= moment) for r in rows]
    return [e for e in shown if not e.lapsed] + [e for e in reversed(shown) if e.lapsed]


def in_force(conn: Connection, now: datetime) -> dict[str, tuple[str, str, str]]:
    """Traced entries a bundle made at `now` carries: subject -> (colour, reason, until)."""
    rows = conn.execute(
        select(traced_colour.c.subject, traced_colour.c.colour, traced_colour.c.reason, traced_colour.c.until).where(
            traced_colour.c.until > utc_text(now)
        )
    )
    return {r.subject: (r.colour, r.reason, r.until) for r in rows}
