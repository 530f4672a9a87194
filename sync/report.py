"""Plain views of a SyncStatus: one line for a terminal or a status bar, and a JSON-ready dict. HQ's error
text is passed through `kiosk.text.visible`, since it comes from the network."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kiosk.text import visible
from sync.status import SyncStatus


def age_text(age: timedelta | None) -> str:
    """'never', 'just now', '5 min ago', '3 h ago', '2 days ago'."""
    if age is None:
        return "never"
    seconds = max(age.total_seconds(), 0)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min ago"
    if seconds < 2 * 86400:
        return f"{seconds // 3600:.0f} h ago"
    return f"{seconds // 86400:.0f} days ago"


def waiting_text(status: SyncStatus) -> str:
    """'3 waiting', '12 waiting (10 refused by HQ)', or 'waiting unknown' when the gate database cannot be read."""
    if status.entries_waiting is None:
        return "waiting unknown"
    refused = f" ({status.refused} refused by HQ)" if status.refused else ""
    return f"{status.entries_waiting} waiting{refused}"


def status_line(status: SyncStatus, now: datetime | None = None) -> str:
    """'online: 0 waiting (HQ has #1234), lists v7 from 3 min ago, last sync just now'."""
    moment = now or datetime.now(UTC)
    last = age_text(moment - status.last_success_at if status.last_success_at else None)
    lists = (
        f"lists v{status.bundle_version} from {age_text(status.bundle_age(moment))}"
        if status.bundle_version
        else "no lists from HQ yet"
    )
    line = (
        f"{status.connection.value}: {waiting_text(status)} (HQ has #{status.upload_cursor}), {lists}, "
        f"last sync {last}"
    )
    if status.hq_alerts:
        line += f", {status.hq_alerts} alerts at HQ"
    if status.policy_ignored:
        line += f"; {policy_ignored_text(status.policy_ignored)}"
    if status.last_error:
        line += f"; {visible(status.last_error, limit=300)}"
    return line


def policy_ignored_text(names: tuple[str, ...]) -> str:
    """What a gate says of HQ policy rules newer than its software."""
    return f"HQ's policy has rules this gate's software does not know, not applied: {visible(', '.join(names))}"


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
        "last_success_at": when(status.last_success_at),
        "last_attempt_at": when(status.last_attempt_at),
        "last_error": visible(status.last_error, limit=2000) if status.last_error else None,
        "hq_alerts": status.hq_alerts,
        "policy_ignored": [visible(name) for name in status.policy_ignored],
    }
