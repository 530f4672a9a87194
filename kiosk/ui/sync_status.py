"""The sync indicator's words, from a `kiosk.uplink.client.SyncStatus`.

There is one record of sync at the gate: the tables kiosk/uplink/state.py keeps in the gate database. The background
worker, `pocket-kiosk sync --once` from another terminal and the kiosk's own periodic refresh all read or write
that record, so the indicator and the settings screen show the same thing whichever of them last synced.
HQ's error text comes from the network and is made visible (`sync.core.escaping.visible`) before it is shown.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sync.core.clock import ago_text
from sync.core.escaping import visible
from kiosk.uplink.status_text import CONNECTIONS, waiting_text
from sync.core.i18n import _
from kiosk.uplink.status import Connection, SyncStatus

ERROR_CHARS = 80
"""The status line shows this much of an error; the settings screen shows it whole."""


def describe(status: SyncStatus, now: datetime | None = None, *, error_chars: int = ERROR_CHARS) -> str:
    """'not enrolled · 12 waiting', 'online · 0 waiting · synced 3 s ago', 'offline · 4 waiting · synced
    2 h ago', 'error · 4 waiting · never synced · HQ refused (401): ...', or 'error · 10 waiting (10 refused by
    HQ) · synced 3 s ago · HQ refused 10 entries (#91..#100): ...'."""
    waiting = waiting_text(status)
    if status.connection is Connection.NOT_ENROLLED:
        return f"{_(CONNECTIONS[status.connection])} · {waiting}"
    untried = status.connection is Connection.OFFLINE and not status.tried
    link = _("not tried yet") if untried else _(CONNECTIONS[status.connection])
    parts = [link, waiting]
    if status.last_success_at is not None:
        parts.append(_("synced {ago}").format(ago=ago_text((now or datetime.now(UTC)) - status.last_success_at)))
    else:
        parts.append(_("never synced"))
    if error_chars and status.connection is Connection.ERROR and status.last_error:
        parts.append(visible(status.last_error, limit=error_chars))
    return " · ".join(parts)


def is_problem(status: SyncStatus) -> bool:
    """Whether the indicator should stand out: HQ refusing, or unreachable after at least one try."""
    return status.connection is Connection.ERROR or (status.connection is Connection.OFFLINE and status.tried)
