"""How old the gate's lists and trusted keys are, against the ages the policy allows.

The ages come from where they are recorded, never from a copy: the lists (roster, passes, red/yellow list) are
as fresh as HQ's last confirmation of the bundle in force (kiosk/uplink/state.py's `bundle_checked_at`, whichever
process synced), and the trusted keys as their latest confirmation in `kiosk.trust_store` (the same age the
policy judges codes by). The kiosk's settings screen reads `list_ages` and warns when either is older than
`[freshness]` in the policy allows, or the lists never came from HQ.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sync.core.policy import Policy


@dataclass(frozen=True)
class ListAge:
    label: str
    version: str | None
    updated_at: datetime | None
    max_age: timedelta
    now: datetime
    unaged: str = ""
    """What to say when there is no update time because none applies (keys from files only), rather than
    because HQ was never heard from; such a list is not stale."""

    @property
    def age(self) -> timedelta | None:
        return None if self.updated_at is None else self.now - self.updated_at

    @property
    def stale(self) -> bool:
        if self.age is None:
            return not self.unaged
        return self.age > self.max_age

    def describe(self) -> str:
        """'3 h old (version 12, limit 24 h)' or 'never updated from HQ (limit 24 h)'."""
        limit = f"limit {self.max_age.total_seconds() / 3600:g} h"
        if self.age is None:
            return self.unaged or f"never updated from HQ ({limit})"
        version = f"version {self.version}, " if self.version else ""
        return f"{_ago(self.age)} old ({version}{limit})"


def _ago(age: timedelta) -> str:
    seconds = max(age.total_seconds(), 0)
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


def list_ages(
    policy: Policy,
    *,
    bundle_version: int,
    lists_checked_at: datetime | None,
    keys_confirmed_at: datetime | None,
    now: datetime,
) -> list[ListAge]:
    """The red/yellow list (with roster and passes) and the trusted keys, each with its age and limit.

    `bundle_version` and `lists_checked_at` are HQ's bundle in force and when HQ last confirmed it (0 and None
    before the first); `keys_confirmed_at` is the trust store's latest confirmation (None: keys from files)."""
    version = str(bundle_version) if bundle_version else None
    return [
        ListAge(
            "red/yellow list, roster",
            version,
            lists_checked_at,
            timedelta(hours=policy.freshness.lists_max_age_hours),
            now,
        ),
        ListAge(
            "issuer keys",
            version,
            keys_confirmed_at,
            timedelta(hours=policy.freshness.keys_max_age_hours),
            now,
            unaged="from the trust folder only: files have no age to judge",
        ),
    ]


LIST_TABLES = {"roster": "residents on the roster", "passes": "HQ passes", "colour_list": "people on the red/yellow list"}


def list_sizes(db_path: Path) -> dict[str, int]:
    """How many rows each list holds, read on a connection of its own (a roster can be large)."""
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)) as conn:
        return {table: conn.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0] for table in LIST_TABLES}
