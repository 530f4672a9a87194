"""The rules in force at this gate, with one owner: the policy, the trusted keys and the lists the gate judges by,
where they come from, how old they are, and when they change.

They live in the gate database (HQ's bundle and `pocket-kiosk trust import` put them there) beside the files
the configuration names, and this module is the one that reads them:
- the policy: HQ's when the gate has synced one (kept whole under `HQ_POLICY_META`, which this module also
  writes for the sync client: `keep_hq_policy`), else the configured file, else the field defaults; with the
  sections and keys of HQ's policy this version does not know, kept but not applied;
- the trusted keys: the trust folder's files and the stored trust documents (`kiosk.trust_store`), with the
  age of their latest confirmation (the age the stale-keys rule judges codes by);
- the ages of the lists and keys against the policy in force (`ages`), for the settings screen and `pocket-kiosk
  trust list`; the lists count from HQ's last confirmation of the bundle in force.

`RulesInForce.refresh()` puts new rules in force at once when what is stored changed (a bundle applied by the
kiosk's own sync, or by `pocket-kiosk sync --once` from another terminal; a `trust import`), and tells whoever
watches (`watch`): the gate, so the next code is judged by them. A pair is replaced whole, never half.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from kiosk.config import KioskConfig
from kiosk.keeper_locale import ZONE_META
from kiosk.store import GateStore
from kiosk.trust_store import last_confirmed, load_documents, stored_versions
from sync.core.clock import age_text
from sync.core.codes import TrustList
from sync.core.policy import Decision, FreshnessRule, Policy, PolicyError, PolicyReading, read_policy
from sync.core.i18n import N_, _

HQ_POLICY_META = "hq_policy"
"""Meta key holding the policy HQ pushed, whole, as JSON; once there it is the policy in force, read by
`sync.core.policy.read_policy`: what this version does not know is kept, not applied."""


@dataclass(frozen=True)
class Rules:
    """What a gate judges by besides its lists: the trusted keys and the policy, always replaced together."""

    trust: TrustList
    policy: Policy
    ignored: tuple[str, ...] = ()
    """Sections and keys of HQ's policy this gate's software does not know: kept, not applied."""
    zone: str | None = None
    """The district's time zone HQ's bundle names (`ZONE_META`): not a rule, but what every time shown is read in."""


def hq_policy_text(policy: Mapping[str, object] | None) -> str | None:
    """HQ's policy as the gate keeps it, whole (None: HQ publishes none). Sections and keys this gate does not
    know (a newer HQ's) are kept, never a reason to refuse it; a bad value in one it knows raises PolicyError."""
    if policy is None:
        return None
    read_policy(policy)
    return json.dumps(policy, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def keep_hq_policy(store: GateStore, text: str | None) -> None:
    """Store HQ's policy (`hq_policy_text`) as the policy in force, or forget it; inside the caller's transaction
    when there is one (a bundle is applied whole)."""
    with store.transaction() as db:
        if text is None:
            db.execute("DELETE FROM meta WHERE key = ?", [HQ_POLICY_META])
        else:
            store.set_meta({HQ_POLICY_META: text})


def hq_policy(store: GateStore | None) -> PolicyReading | None:
    """HQ's policy as this version reads it, or None when the gate has synced none."""
    text = store.get_meta(HQ_POLICY_META) if store is not None else None
    if text is None:
        return None
    try:
        return read_policy(json.loads(text))
    except (ValueError, PolicyError) as exc:
        raise PolicyError(f"the policy synced from HQ is unreadable ({exc}); sync again") from exc


def lists_confirmed_at(store: GateStore | None) -> datetime | None:
    """When HQ last confirmed the lists in force are current (the sync state's record; None for a gate that never
    synced: its lists have no age to judge)."""
    if store is None:
        return None
    try:
        with store.reading() as db:
            row = db.execute("SELECT bundle_checked_at FROM sync_state WHERE id = 1").fetchone()
    except sqlite3.OperationalError:  # no sync state yet: the gate never synced
        return None
    return datetime.fromisoformat(row[0]) if row and row[0] else None


def policy_in_force(config: KioskConfig, store: GateStore | None) -> PolicyReading:
    """HQ's policy when the gate has synced one, else the configured file (or the field defaults), with what HQ's
    holds that this version does not know."""
    return hq_policy(store) or PolicyReading(config.load_policy(), ())


class RulesInForce:
    """The rules one gate judges by, read from its configuration and its database (see the module docstring).

    `trust_dir` replaces the configured trust folder; `trust_file` makes the trust list that one file's keys
    alone (to diagnose a code). Raises TrustError or PolicyError when they cannot be read."""

    def __init__(
        self,
        config: KioskConfig,
        store: GateStore | None,
        *,
        trust_dir: Path | None = None,
        trust_file: Path | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self._trust_dir = trust_dir or config.trust_dir
        self._trust_file = trust_file
        self._watchers: list[Callable[[Rules], None]] = []
        self._lock = threading.Lock()
        """The kiosk refreshes from two threads (its sync worker, its periodic status read)."""
        self._stamp = self._stored()
        self.current = self._load()

    def watch(self, callback: Callable[[Rules], None]) -> None:
        """Call `callback` with the new rules each time new ones are put in force (from the refreshing thread)."""
        self._watchers.append(callback)

    def refresh(self) -> bool:
        """Put in force what the configuration and the gate database hold now, if HQ's policy or the stored
        trust documents changed since they were read; else only renew the keys' age from their latest
        confirmation (HQ confirmed its bundle is current). True when new rules were put in force. On an error
        the rules in force stay, and the error is raised for the caller to say so."""
        with self._lock:
            stamp = self._stored()
            if stamp == self._stamp:
                if self.store is not None and self._trust_file is None:
                    self.current.trust.updated_at = last_confirmed(self.store) or self.current.trust.updated_at
                return False
            self._stamp = stamp  # what cannot be read is said once, not at every refresh
            rules = self._load()
            self.current = rules
            for callback in self._watchers:
                callback(rules)
            return True

    def _stored(self) -> tuple[str | None, str | None, tuple[tuple[str, str], ...]]:
        """What marks a change of the stored rules: HQ's policy text, the district's zone and each trust
        document's name and digest."""
        if self.store is None:
            return None, None, ()
        return self.store.get_meta(HQ_POLICY_META), self.store.get_meta(ZONE_META), stored_versions(self.store)

    def _load(self) -> Rules:
        if self._trust_file is not None:
            trust = TrustList.from_file(self._trust_file)
        else:
            trust = TrustList.from_dir(self._trust_dir) if self._trust_dir else TrustList()
            if self.store is not None:
                load_documents(self.store, trust)
        reading = policy_in_force(self.config, self.store)
        zone = self.store.get_meta(ZONE_META) if self.store is not None else None
        return Rules(trust, reading.policy, reading.ignored, zone)

    def ages(self, *, bundle_version: int, lists_checked_at: datetime | None, now: datetime) -> list[ListAge]:
        """The red/yellow list (with roster and passes) and the trusted keys, each with its age and the limit the
        policy in force allows. `bundle_version` and `lists_checked_at` are HQ's bundle in force and when HQ last
        confirmed it (0 and None before the first)."""
        freshness = self.current.policy.section(FreshnessRule)
        keys_confirmed_at = last_confirmed(self.store) if self.store is not None else None
        version = str(bundle_version) if bundle_version else None
        return [
            ListAge(
                N_("red/yellow list, roster"),
                version,
                lists_checked_at,
                timedelta(hours=freshness.lists_max_age_hours),
                now,
            ),
            ListAge(
                N_("issuer keys"),
                version,
                keys_confirmed_at,
                timedelta(hours=freshness.keys_max_age_hours),
                now,
                unaged=N_("from the trust folder only: files have no age to judge"),
            ),
        ]

    def freshness_warning(self, *, lists_checked_at: datetime | None, bundle_version: int, now: datetime) -> str | None:
        """What the gate screen itself says when an enrolled gate's lists or keys are past their age (and what
        the policy then does with everyone entering), or None. `lists_checked_at` is None for a gate that never
        synced: there is nothing from HQ to age, and the settings screen says so."""
        if lists_checked_at is None:
            return None
        ages = self.ages(bundle_version=bundle_version, lists_checked_at=lists_checked_at, now=now)
        stale = [_("{list} {age}").format(list=_(age.label), age=age.describe()) for age in ages if age.stale]
        if not stale:
            return None
        freshness = self.current.policy.section(FreshnessRule)
        decision = freshness.lists_decision(now - lists_checked_at)
        then = STALE_LISTS_THEN.get(decision) if decision else None
        return _("OUT OF DATE: {lists} · {then}").format(
            lists="; ".join(stale), then=_(then or STALE_LISTS_THEN_WARN)
        )


STALE_LISTS_THEN = {
    Decision.HOLD: N_("everyone entering is HELD until the gate syncs"),
    Decision.REFUSE: N_("everyone entering is REFUSED until the gate syncs"),
}
"""What the gate screen's out-of-date bar adds when the policy stops people past the lists' second age (marked
for translation; show it with `_()`)."""
STALE_LISTS_THEN_WARN = N_("check the network or call the district")


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
        hours = self.max_age.total_seconds() / 3600
        if self.age is None:
            return _(self.unaged) if self.unaged else _("never updated from HQ (limit {hours:g} h)").format(hours=hours)
        if self.version:
            return _("{age} old (version {version}, limit {hours:g} h)").format(
                age=age_text(self.age), version=self.version, hours=hours
            )
        return _("{age} old (limit {hours:g} h)").format(age=age_text(self.age), hours=hours)


LIST_TABLES = {
    "roster": N_("residents on the roster"),
    "passes": N_("HQ passes"),
    "colour_list": N_("people on the red/yellow list"),
}
"""The gate's lists, each named for the keeper."""


def list_sizes(db_path: Path) -> dict[str, int]:
    """How many rows each list holds, read on a connection of its own (a roster can be large)."""
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)) as conn:
        return {table: conn.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0] for table in LIST_TABLES}
