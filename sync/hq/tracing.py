"""Contact tracing over the entries HQ holds: the three questions an investigation asks.

1. Where and when was this person? Every passage of a subject in a time window (index subject, ts, id).
2. Who passed this gate between t1 and t2? Every passage at a gate in a window (index gate, ts, id).
3. Who was near this person? Everyone who passed the same gates within N minutes of one of the person's
   passages in the window: the person's passages become a few (gate, from, to) ranges, overlapping ones
   merged, and each range is read from the (gate, ts, id, subject) index alone, one UNION ALL branch per
   range (an OR of ranges makes PostgreSQL read them through the table). The ranges' keys are gathered
   first (a MATERIALIZED common table expression: left to itself, PostgreSQL would walk the whole window in
   time order looking for them, to save a sort of a few thousand rows), then paged, and only a page's rows
   are read from the table, by id.

Counting reads index columns only (`Result.found`), and people are counted by grouping rather than
COUNT(DISTINCT): PostgreSQL sorts for a DISTINCT, in the text collation and spilling to disk, where a hash
aggregate takes less than half the time (10 million entries: a busy gate's 14 days 980 ms -> 430 ms).

People are subjects (the keyed hash of their ID number): an ID number typed by staff is hashed with the
district key before it reaches this module, and never stored. Results come a page at a time in (ts, id) order
(see `paging`); `each_row` walks a whole result in batches for CSV export without holding a transaction open.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, false, func, or_, select, union_all

from sync.core.clock import utc_text
from sync.hq.db import Reader
from sync.hq.tables import entries
from sync.hq.paging import Page, keyset_page
from sync.core.refusals import entry_reasons

MAX_CONTACT_MINUTES = 24 * 60
MAX_INDEX_PASSAGES = 1000
"""A person's passages considered for contacts; a window holding more is cut (and the page says so)."""
EXPORT_BATCH = 2000

COLUMNS = (
    entries.c.id,
    entries.c.ts,
    entries.c.gate,
    entries.c.direction,
    entries.c.subject,
    entries.c.name,
    entries.c.code_type,
    entries.c.colour,
    entries.c.verdict,
    entries.c.reasons,
    entries.c.reason_codes,
    entries.c.temperature,
    entries.c.operator,
)
FIELDS = tuple(c.name for c in COLUMNS)
PAGE_KEYS = (entries.c.ts, entries.c.id)
COUNTED = entries.c.superseded_by.is_(None)
"""One passage per attempt: an entry an amendment replaced is kept but neither traced, counted nor exported
(see `sync.hq.ingest`, rule 7)."""


class TracingError(ValueError):
    """A tracing request that cannot be answered as asked; the message says what to change."""


@dataclass(frozen=True)
class Window:
    """[start, end) in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise TracingError("the window must end after it starts")

    @property
    def bounds(self) -> tuple[str, str]:
        return utc_text(self.start), utc_text(self.end)


@dataclass(frozen=True)
class Passage:
    """One entry as tracing shows it. Everything but `when` came from a gate: escape it before display."""

    id: str
    ts: str
    gate: str
    direction: str
    subject: str | None
    name: str
    code_type: str
    colour: str | None
    verdict: str
    reasons: list[str]
    """As logged, with their codes (`sync.core.wording.Because`) where the gate sent them: word them with `say`."""
    reason_codes: str | None
    temperature: float | None
    operator: str
    came_with: str | None = None
    """For a companion (someone without a phone who came with a person: `code_type` 'companion'), the masked
    name of the person they came with, as that person's entry holds it (`with_companions`)."""

    @property
    def when(self) -> datetime | None:
        try:
            return datetime.fromisoformat(self.ts)
        except ValueError:
            return None

    @classmethod
    def of(cls, row: Any) -> Passage:
        """From a row of COLUMNS, by position: a row's `_mapping` costs more than the rest of a CSV export."""
        values = dict(zip(FIELDS, row, strict=True))
        return cls(**{**values, "reasons": entry_reasons(values["reasons"], values["reason_codes"])})


def with_companions(conn: Connection, passages: list[Passage]) -> list[Passage]:
    """`passages` with each companion's `came_with` filled in: the gate links a companion's entry to the entry of
    the person they came with (`details.companion_of`), so HQ shows companions as people, linked to that person.
    Two queries a page, by primary key; a link HQ cannot follow (the person's entry purged, or details that are
    not the gate's JSON) leaves `came_with` empty."""
    ids = [p.id for p in passages if p.code_type == "companion"]
    if not ids:
        return passages
    links: dict[str, str] = {}
    for row in conn.execute(select(entries.c.id, entries.c.details).where(entries.c.id.in_(ids))):
        try:
            adult = json.loads(row.details).get("companion_of")
        except (ValueError, AttributeError):
            continue
        if isinstance(adult, str):
            links[row.id] = adult
    names = dict(conn.execute(select(entries.c.id, entries.c.name).where(entries.c.id.in_(set(links.values())))).all())
    return [replace(p, came_with=names.get(links.get(p.id, ""))) if p.id in links else p for p in passages]


class Result:
    """A tracing question made into one query: counted, paged, or walked whole. `keys` are the query's (ts, id)
    columns, which order and page it; `found` selects the same rows' `subject` alone, which an index holds, for
    counting them without reading the table."""

    def __init__(
        self, query: Select[Any], found: Select[Any], keys: tuple[Any, Any] = PAGE_KEYS, *, keys_only: bool = False
    ) -> None:
        self.query = query
        self.found = found
        self.keys = keys
        self.keys_only = keys_only
        """`query` gives (ts, id) alone; a page's other columns are read by id afterwards."""

    def _page(self, conn: Connection, after: str | None, before: str | None, size: int) -> Page[Passage]:
        found = keyset_page(conn, self.query, self.keys, lambda r: [r.ts, r.id], after=after, before=before, size=size)
        rows = found.items
        if self.keys_only and rows:
            by_id = {r.id: r for r in conn.execute(select(*COLUMNS).where(entries.c.id.in_([r.id for r in rows])))}
            rows = [by_id[r.id] for r in rows if r.id in by_id]  # a row purged in between is left out
        return Page(with_companions(conn, [Passage.of(r) for r in rows]), found.next_cursor, found.prev_cursor)

    def count(self, conn: Connection) -> int:
        return int(conn.execute(select(func.count()).select_from(self.found.subquery())).scalar_one())

    def summary(self, conn: Connection) -> tuple[int, int]:
        """How many passages the result holds, and by how many different identified people (one pass)."""
        inner = self.found.subquery()
        per_person = select(inner.c.subject, func.count().label("n")).group_by(inner.c.subject).subquery()
        total, people = conn.execute(
            select(func.coalesce(func.sum(per_person.c.n), 0), func.count(per_person.c.subject))
        ).one()
        return int(total), int(people)

    def page(self, conn: Connection, *, after: str | None = None, before: str | None = None, size: int = 50) -> Page[Passage]:
        return self._page(conn, after, before, size)

    def each_row(self, db: Reader, batch: int = EXPORT_BATCH) -> Iterator[Passage]:
        """Every passage in order, read in batches (each its own short read)."""
        after = None
        while True:
            with db.read() as conn:
                found = self._page(conn, after, None, batch)
            yield from found.items
            if found.next_cursor is None:
                return
            after = found.next_cursor


def person(subject: str, window: Window) -> Result:
    start, end = window.bounds
    where = (entries.c.subject == subject, entries.c.ts >= start, entries.c.ts < end, COUNTED)
    return Result(select(*COLUMNS).where(*where), select(entries.c.subject).where(*where))


def gate(gate_id: str, window: Window) -> Result:
    start, end = window.bounds
    where = (entries.c.gate == gate_id, entries.c.ts >= start, entries.c.ts < end, COUNTED)
    return Result(select(*COLUMNS).where(*where), select(entries.c.subject).where(*where))


@dataclass(frozen=True)
class Range:
    gate: str
    start: str
    end: str


@dataclass(frozen=True)
class ContactPlan:
    """The person's passages in the window, and the ranges of gate and time that count as near them."""

    subject: str
    minutes: int
    passages: list[Passage]
    ranges: list[Range]
    truncated: bool
    """True when the window held more than MAX_INDEX_PASSAGES passages and only the first were used."""

    def nearest(self, contact: Passage) -> tuple[Passage | None, float | None]:
        """The person's passage at the same gate closest in time to `contact`, and the minutes between them."""
        when = contact.when
        if when is None:
            return None, None
        best: tuple[Passage | None, float | None] = (None, None)
        for passage in self.passages:
            at = passage.when
            if passage.gate != contact.gate or at is None:
                continue
            apart = abs((when - at).total_seconds()) / 60
            if best[1] is None or apart < best[1]:
                best = (passage, apart)
        return best


def plan_contacts(conn: Connection, subject: str, window: Window, minutes: int) -> ContactPlan:
    if not 1 <= minutes <= MAX_CONTACT_MINUTES:
        raise TracingError(f"minutes must be between 1 and {MAX_CONTACT_MINUTES}")
    own = conn.execute(
        person(subject, window).query.order_by(*PAGE_KEYS).limit(MAX_INDEX_PASSAGES + 1)
    ).all()
    truncated = len(own) > MAX_INDEX_PASSAGES
    passages = [Passage.of(r) for r in own[:MAX_INDEX_PASSAGES]]
    near = timedelta(minutes=minutes)
    spans: dict[str, list[list[datetime]]] = {}
    for passage in sorted((p for p in passages if p.when is not None), key=lambda p: (p.gate, p.when)):
        at = passage.when
        assert at is not None
        gate_spans = spans.setdefault(passage.gate, [])
        if gate_spans and at - near <= gate_spans[-1][1]:
            gate_spans[-1][1] = at + near
        else:
            gate_spans.append([at - near, at + near])
    ranges = [Range(g, utc_text(lo), utc_text(hi)) for g, found in spans.items() for lo, hi in found]
    return ContactPlan(subject, minutes, passages, ranges, truncated)


def contacts(plan: ContactPlan) -> Result:
    """Everyone else's passages in the plan's ranges (unidentified people included: they are leads too)."""
    others = or_(entries.c.subject.is_(None), entries.c.subject != plan.subject)
    branches = [
        select(entries.c.ts, entries.c.id, entries.c.subject).where(
            entries.c.gate == r.gate, entries.c.ts >= r.start, entries.c.ts <= r.end, others, COUNTED
        )
        for r in plan.ranges
    ] or [select(entries.c.ts, entries.c.id, entries.c.subject).where(false())]
    keys = union_all(*branches).cte("near").prefix_with("MATERIALIZED")
    return Result(select(keys.c.ts, keys.c.id), select(keys.c.subject), (keys.c.ts, keys.c.id), keys_only=True)
