"""Plain views of a SyncStatus: one line for a terminal or a status bar, and a JSON-ready dict. HQ's error
text is passed through `sync.core.escaping.visible`, since it comes from the network."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kiosk.keeper_locale import local
from sync.core.clock import ago_text
from sync.core.escaping import visible
from kiosk.uplink.status import Connection, SyncStatus
from sync.core.i18n import N_, _

CONNECTIONS = {
    Connection.NOT_ENROLLED: N_("not enrolled"),
    Connection.ONLINE: N_("online"),
    Connection.OFFLINE: N_("offline"),
    Connection.ERROR: N_("error"),
}
"""The state of the link with HQ in the keeper's words."""


def waiting_text(status: SyncStatus) -> str:
    """'3 waiting', '12 waiting (10 refused by HQ)', or 'waiting unknown' when the gate database cannot be read."""
    if status.entries_waiting is None:
        return _("waiting unknown")
    if status.refused:
        return _("{waiting} waiting ({refused} refused by HQ)").format(
            waiting=status.entries_waiting, refused=status.refused
        )
    return _("{waiting} waiting").format(waiting=status.entries_waiting)


def status_line(status: SyncStatus, now: datetime | None = None) -> str:
    """'online: 0 waiting (HQ has #1234), lists v7 from 3 min ago, last sync 5 s ago'."""
    moment = now or datetime.now(UTC)
    last = ago_text(moment - status.last_success_at if status.last_success_at else None)
    lists = (
        _("lists v{version} from {ago}").format(version=status.bundle_version, ago=ago_text(status.bundle_age(moment)))
        if status.bundle_version
        else _("no lists from HQ yet")
    )
    line = _("{connection}: {waiting} (HQ has #{cursor}), {lists}, last sync {last}").format(
        connection=_(CONNECTIONS[status.connection]),
        waiting=waiting_text(status),
        cursor=status.upload_cursor,
        lists=lists,
        last=last,
    )
    if status.hq_alerts:
        line += _(", {alerts} alerts at HQ").format(alerts=status.hq_alerts)
    if status.policy_ignored:
        line += f"; {policy_ignored_text(status.policy_ignored)}"
    if status.last_error:
        line += f"; {visible(status.last_error, limit=300)}"
    return line


def bundle_news(status: SyncStatus) -> str | None:
    """What the keeper is told, once, when a sync put HQ's new lists in force: 'red/yellow list updated (v7),
    10:14' (None when this run applied nothing, or a bundle that changed nothing the gate judges by)."""
    change = status.bundle_change
    if change is None or not change.parts:
        return None
    return _("{parts} updated (v{version}), {time}").format(
        parts=", ".join(_(part) for part in change.parts),
        version=change.version,
        time=local(change.applied_at).strftime("%H:%M"),
    )


def policy_ignored_text(names: tuple[str, ...]) -> str:
    """What a gate says of HQ policy rules newer than its software."""
    return _("HQ's policy has rules this gate's software does not know, not applied: {names}").format(
        names=visible(", ".join(names))
    )


def status_json(status: SyncStatus) -> dict[str, Any]:
    def when(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "connection": status.connection.value,
        "entries_waiting": status.entries_waiting,
        "refused": status.refused,
        "upload_cursor": status.upload_cursor,
        "uploaded": status.uploaded,
        "bundle_version": status.bundle_version,
        "bundle_applied_at": when(status.bundle_applied_at),
        "bundle_changed": status.bundle_changed,
        "bundle_parts_changed": list(status.bundle_change.parts) if status.bundle_change else [],
        "last_success_at": when(status.last_success_at),
        "last_attempt_at": when(status.last_attempt_at),
        "last_error": visible(status.last_error, limit=2000) if status.last_error else None,
        "hq_alerts": status.hq_alerts,
        "policy_ignored": [visible(name) for name in status.policy_ignored],
    }
