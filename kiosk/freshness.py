"""How old the gate's lists and trusted keys are, against the ages the policy allows.

Whatever refreshes the lists (HQ's bundle through sync, or a local import) records it with `mark_updated` in
the store's `meta` table; the kiosk's settings screen reads `list_ages` and warns when the red/yellow list and
roster, or the trusted issuer keys, are older than `[freshness]` in the policy allows, or were never updated.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.policy import Policy
from kiosk.store import GateStore, utc_text

LISTS_UPDATED_AT = "lists_updated_at"
"""meta key: UTC time the roster, passes and red/yellow list were last replaced."""
KEYS_UPDATED_AT = "keys_updated_at"
"""meta key: UTC time the trusted issuer keys were last replaced."""
LISTS_VERSION = "lists_version"
"""meta key: the version (HQ bundle version, or a label) of the lists in force."""


@dataclass(frozen=True)
class ListAge:
    label: str
    version: str | None
    updated_at: datetime | None
    max_age: timedelta
    now: datetime

    @property
    def age(self) -> timedelta | None:
        return None if self.updated_at is None else self.now - self.updated_at

    @property
    def stale(self) -> bool:
        return self.age is None or self.age > self.max_age

    def describe(self) -> str:
        """'3 h old (version 12, limit 24 h)' or 'never updated from HQ (limit 24 h)'."""
        limit = f"limit {self.max_age.total_seconds() / 3600:g} h"
        if self.age is None:
            return f"never updated from HQ ({limit})"
        version = f"version {self.version}, " if self.version else ""
        return f"{_ago(self.age)} old ({version}{limit})"


def _ago(age: timedelta) -> str:
    seconds = max(age.total_seconds(), 0)
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def list_ages(store: GateStore, policy: Policy, now: datetime | None = None) -> list[ListAge]:
    """The red/yellow list (with roster and passes) and the trusted keys, each with its age and limit."""
    moment = now or datetime.now(UTC)
    version = store.get_meta(LISTS_VERSION)
    return [
        ListAge(
            "red/yellow list, roster",
            version,
            _moment(store.get_meta(LISTS_UPDATED_AT)),
            timedelta(hours=policy.freshness.lists_max_age_hours),
            moment,
        ),
        ListAge(
            "issuer keys",
            version,
            _moment(store.get_meta(KEYS_UPDATED_AT)),
            timedelta(hours=policy.freshness.keys_max_age_hours),
            moment,
        ),
    ]


def mark_updated(
    store: GateStore, *, lists: bool = False, keys: bool = False, version: str | None = None, now: datetime | None = None
) -> None:
    """Record that the lists and/or keys were just replaced."""
    stamp = utc_text(now or datetime.now(UTC))
    values: dict[str, str] = {}
    if lists:
        values[LISTS_UPDATED_AT] = stamp
    if keys:
        values[KEYS_UPDATED_AT] = stamp
    if version is not None:
        values[LISTS_VERSION] = version
    if values:
        store.set_meta(values)


LIST_TABLES = {"roster": "residents on the roster", "passes": "HQ passes", "colour_list": "people on the red/yellow list"}


def list_sizes(db_path: Path) -> dict[str, int]:
    """How many rows each list holds, read on a connection of its own (a roster can be large)."""
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)) as conn:
        return {table: conn.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0] for table in LIST_TABLES}
