"""What the gate knows of its sync with HQ, read from its own database: no network, no HTTP library.

The kiosk's indicator and settings, `pocket-kiosk sync --status` and the sync service itself all describe the
sync through `SyncStatus`; this module is what they share, kept apart from the HTTP client (kiosk/uplink/client.py) so
that a kiosk that is not enrolled never loads httpx.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from kiosk.config import KioskConfig
from kiosk.rules_in_force import hq_policy
from sync.core.policy import PolicyError
from kiosk.store import StoreError
from kiosk.uplink.state import BundleChange, SyncState


class Connection(StrEnum):
    """What the keeper's status line says about HQ."""

    NOT_ENROLLED = "not enrolled"
    ONLINE = "online"
    OFFLINE = "offline"
    ERROR = "error"
    """HQ answered but refused something (a revoked token, a bad bundle): needs a person, not a retry."""


@dataclass(frozen=True)
class SyncProgress:
    """Upload progress within one run (for a progress bar on a large backlog)."""

    sent: int
    total: int


@dataclass(frozen=True)
class SyncStatus:
    """Everything a status line needs; plain data, safe to hand to another thread."""

    connection: Connection
    entries_waiting: int | None
    """Entries logged at the gate that HQ does not hold (refused ones included); None when the gate database
    cannot be read, so nobody can say."""
    upload_cursor: int
    """Sequence number up to which HQ holds the whole log (never past an entry HQ refused)."""
    last_success_at: datetime | None
    last_attempt_at: datetime | None
    last_error: str | None
    bundle_version: int
    """Version of HQ's lists in force at the gate (0: none yet)."""
    bundle_applied_at: datetime | None
    bundle_checked_at: datetime | None = None
    """When HQ last confirmed the lists in force are current: their age is judged from this."""
    hq_alerts: int = 0
    """Problems HQ found in this gate's history (gaps, edited rows) since enrolment."""
    refused: int = 0
    """Entries HQ refused, kept at the gate (`pocket-kiosk sync --refused` lists them); part of entries_waiting."""
    uploaded: int = 0
    """Entries acknowledged by HQ in the run that produced this status."""
    bundle_change: BundleChange | None = None
    """The new bundle applied in this run, if any, and what it changed (its keys and policy are put in force by
    `kiosk.rules_in_force`)."""
    policy_ignored: tuple[str, ...] = ()
    """Sections and keys of HQ's policy this gate's software does not know: kept, not applied."""
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def bundle_changed(self) -> bool:
        """A new bundle was applied in this run."""
        return self.bundle_change is not None

    @property
    def online(self) -> bool:
        return self.connection is Connection.ONLINE

    @property
    def tried(self) -> bool:
        """Whether this gate has ever tried to reach HQ (before that, OFFLINE means "not yet")."""
        return self.last_attempt_at is not None

    def bundle_age(self, now: datetime | None = None) -> timedelta | None:
        """How old the lists in force are (None before the first bundle)."""
        if self.bundle_applied_at is None:
            return None
        return (now or datetime.now(UTC)) - self.bundle_applied_at


def is_enrolled(config: KioskConfig) -> bool:
    """Whether the gate has what it needs to sync: HQ's address, a token file and HQ's pinned key."""
    return bool(config.hq_url and config.hq_token_file and config.hq_key_file)


def read_status(
    state: SyncState, *, enrolled: bool, uploaded: int = 0, bundle_change: BundleChange | None = None
) -> SyncStatus:
    """The status as the gate's database records it, with no network: what `sync --status`, the background
    worker and the kiosk's indicator and settings all show, whichever process last synced. A database that
    cannot be read is an ERROR status saying why."""
    try:
        record = state.record()
        reading = hq_policy(state.store)
    except (StoreError, sqlite3.Error) as exc:
        return store_failure(exc)
    except PolicyError:
        reading = None  # the kiosk says so where it loads the policy; the sync status is about HQ
    ignored = reading.ignored if reading is not None else ()
    if not enrolled:
        connection = Connection.NOT_ENROLLED
    elif record.last_outcome is None:
        connection = Connection.OFFLINE
    else:
        connection = Connection(record.last_outcome)
    return SyncStatus(
        connection=connection,
        entries_waiting=record.entries_waiting,
        upload_cursor=record.held_through,
        last_success_at=record.last_success_at,
        last_attempt_at=record.last_attempt_at,
        last_error=record.last_error,
        bundle_version=record.bundle_version,
        bundle_applied_at=record.bundle_applied_at,
        bundle_checked_at=record.bundle_checked_at,
        hq_alerts=record.hq_alerts,
        refused=record.refused,
        uploaded=uploaded,
        bundle_change=bundle_change,
        policy_ignored=ignored,
    )


def store_failure(exc: Exception) -> SyncStatus:
    """The status when the gate database itself cannot be read: how many entries wait is unknown, not 0."""
    return SyncStatus(
        connection=Connection.ERROR,
        entries_waiting=None,
        upload_cursor=0,
        last_success_at=None,
        last_attempt_at=None,
        last_error=f"gate database: {exc}",
        bundle_version=0,
        bundle_applied_at=None,
    )
