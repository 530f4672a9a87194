"""Retention at the gate: entries older than `retention_days` are purged, on `scan`, on kiosk start and by
`pocket-kiosk purge`, but an enrolled gate never purges an entry HQ has not acknowledged.

A gate offline for longer than the retention period would otherwise lose the only copy of its oldest entries.
Once enrolled, what HQ holds for certain (the upload cursor, or just before the first entry HQ refused: see
sync/state.py) bounds the purge: entries after it are kept, however old, and go out with the next sync; the
purge after that removes them. An entry HQ refused is kept until it is dealt with. A gate that is not enrolled has no HQ to
wait for and purges by age alone.
"""

from __future__ import annotations

from datetime import datetime

from kiosk.config import KioskConfig
from kiosk.store import GateStore, Purge
from sync.status import is_enrolled
from sync.state import SyncState


def purge_entries(config: KioskConfig, store: GateStore, now: datetime | None = None) -> Purge:
    """Purge the entries past retention that may go: all of them when the gate is not enrolled, else only
    those HQ holds (seq up to the upload cursor, and before any entry HQ refused)."""
    keep_after = SyncState(store).record().held_through if is_enrolled(config) else None
    return store.purge(config.retention_days, now, keep_after_seq=keep_after)
