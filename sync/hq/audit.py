"""The staff audit log: every tracing query and export, every change an admin makes, every sign-in.

Tracing reads where people have been; the district must be able to say afterwards who looked at whom. A row
holds the account, the time, the action, its parameters (subjects, never raw ID numbers) and how many rows
the answer had. Rows are only ever added; retention does not purge them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from sync.core.clock import utc_text
from sync.hq.db import HqDatabase
from sync.hq.tables import audit_log
from sync.hq.paging import Page, keyset_page


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: str
    username: str
    action: str
    detail: dict[str, Any]
    results: int | None
    client: str


def record(
    db: HqDatabase,
    username: str,
    action: str,
    detail: dict[str, Any] | None = None,
    *,
    results: int | None = None,
    client: str = "",
    now: datetime | None = None,
) -> None:
    with db.begin() as conn:
        conn.execute(
            insert(audit_log).values(
                at=utc_text(now or datetime.now(UTC)),
                username=username,
                action=action,
                detail=json.dumps(detail or {}, sort_keys=True, ensure_ascii=False),
                results=results,
                client=client[:64],
            )
        )


def _row(row: Any) -> AuditRow:
    try:
        detail = json.loads(row.detail)
    except ValueError:
        detail = {"text": row.detail}
    return AuditRow(row.id, row.at, row.username, row.action, detail, row.results, row.client)


def page(
    db: HqDatabase,
    *,
    username: str | None = None,
    action: str | None = None,
    after: str | None = None,
    before: str | None = None,
) -> Page[AuditRow]:
    """Newest first, optionally of one account or one kind of action."""
    query = select(audit_log)
    if username:
        query = query.where(audit_log.c.username == username)
    if action:
        query = query.where(audit_log.c.action == action)
    with db.read() as conn:
        found = keyset_page(
            conn, query, [audit_log.c.id], lambda r: [r.id], after=after, before=before, descending=True
        )
    return Page([_row(r) for r in found.items], found.next_cursor, found.prev_cursor)
