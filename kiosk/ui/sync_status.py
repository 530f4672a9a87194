"""The sync indicator's data: whether the gate is enrolled, online, how many entries wait, when it last synced.

Until the background sync worker reports (see `SyncStatusChanged` in `messages.py`), the kiosk reads what the
store can tell: the upload cursor and last success that sync keeps in the store's `meta` table. With no sync
state at all the gate is "not enrolled" and every entry is waiting.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from kiosk.store import GateStore

SYNC_CURSOR = "sync_cursor"
"""meta key: the highest entry `seq` HQ has acknowledged."""
SYNC_LAST_SUCCESS = "sync_last_success"
"""meta key: UTC time of the last successful sync."""
SYNC_HQ_URL = "sync_hq_url"
"""meta key: the HQ this gate is enrolled with."""


@dataclass(frozen=True)
class SyncState:
    enrolled: bool
    waiting: int
    """Entries logged but not yet acknowledged by HQ."""
    online: bool | None = None
    """None until a sync has been tried in this run."""
    last_sync: datetime | None = None
    error: str = ""
    """The last sync error to show (a 401 or 409 the keeper must report), or empty."""

    def with_waiting(self, waiting: int) -> SyncState:
        return replace(self, waiting=waiting)

    def describe(self, now: datetime | None = None) -> str:
        """'not enrolled · 12 waiting' or 'online · 0 waiting · synced 3 min ago'."""
        waiting = f"{self.waiting} waiting"
        if not self.enrolled:
            return f"not enrolled · {waiting}"
        link = {True: "online", False: "offline", None: "not tried yet"}[self.online]
        parts = [link, waiting]
        if self.last_sync is not None:
            seconds = max(((now or datetime.now(UTC)) - self.last_sync).total_seconds(), 0)
            ago = f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.0f} h"
            parts.append(f"synced {ago} ago")
        else:
            parts.append("never synced")
        if self.error:
            parts.append(self.error)
        return " · ".join(parts)


def state_from_store(store: GateStore) -> SyncState:
    """What the store alone says about sync."""
    cursor_text = store.get_meta(SYNC_CURSOR)
    cursor = int(cursor_text) if cursor_text and cursor_text.isdigit() else 0
    latest = store.recent(limit=1)
    # Sequence numbers are contiguous, so the entries after the cursor are the last seq minus the cursor; the
    # count caps it when entries were purged before they were ever uploaded.
    waiting = min(max((latest[0]["seq"] if latest else 0) - cursor, 0), store.count_entries())
    last = store.get_meta(SYNC_LAST_SUCCESS)
    enrolled = cursor_text is not None or store.get_meta(SYNC_HQ_URL) is not None
    return SyncState(
        enrolled=enrolled, waiting=waiting, last_sync=datetime.fromisoformat(last) if last else None
    )
