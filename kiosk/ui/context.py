"""Everything the kiosk app runs on, opened once before the first screen: no Textual here.

Opening the gate (config, keys, policy, database) happens before the terminal is taken over, so a broken
configuration is one readable line on the command line rather than a screen that cannot work.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sync.core.codes.trust import TrustError
from kiosk import id_keys
from kiosk.config import DEFAULT_DATA, KioskConfig
from kiosk.gate import Gate, open_gate
from kiosk.idcard import CardReader
from kiosk.operators import Operator, OperatorBook
from kiosk.rules_in_force import RulesInForce
from sync.core.policy import PolicyError
from kiosk.duty_log import DutyLog
from kiosk.store import GateStore, StoreError
from sync.core.duty import DutyKind
from kiosk.uplink.status import SyncStatus, is_enrolled, read_status
from kiosk.uplink.retention import purge_entries
from kiosk.uplink.state import SyncState
from kiosk.sound.clips import SoundSettings
from kiosk.sound.cues import SoundMode
from kiosk.sound.player import SoundPlayer
from sync.core.i18n import _

if TYPE_CHECKING:
    from kiosk.uplink.client import SyncService


class CameraFeedLike(Protocol):
    def stop(self) -> None: ...

    def wait(self, timeout: float) -> bool: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class KioskContext:
    config: KioskConfig
    gate: Gate
    operators: OperatorBook
    demo: bool = False
    demo_tour: bool = False
    """The demo also works the field flows once by itself: a companion, an ID card, a scanner (`ui.screens.demo_tour`)."""
    config_file: Path | None = None
    signed_in: Operator | None = None
    """An operator already signed in at start (the demo's); otherwise the sign-in screen comes first."""
    frame_interval: float = 0.0
    """Seconds each frame of a file source stays in front of the 'camera' (the demo's pacing)."""
    loop_source: bool = False
    """Replay a folder of images for ever (the demo) instead of ending after the last one."""
    source_label: str = ""
    """How to name the camera on screen; by default the source's own description."""
    reconnect_seconds: float = 2.0
    """How often a missing or lost camera is tried again."""
    preview_fps: float = 4.0
    """Camera preview refreshes per second; decoding runs on every frame regardless."""
    status_refresh_seconds: float = 5.0
    """How often the gate screen reads the sync record in the database (a `pocket-kiosk sync --once` run from
    another terminal shows within this long)."""
    exports_dir: Path = DEFAULT_DATA / "exports"
    clock: Callable[[], datetime] = utc_now
    key_clock: Callable[[], float] | None = None
    """When each key arrives, in seconds: a keyboard-wedge scanner is told from typing by it (`kiosk.key_bursts`).
    None: each key's own time, when the terminal driver read it (`Key.time`); tests inject a clock."""
    notes: list[str] = field(default_factory=list)
    """Things to tell the keeper once the screen is up (entries purged on start, missing keys...)."""
    sync: SyncService | None = None
    """The background sync with HQ (its own database connection), run by the app's sync worker for its whole
    life; None when the gate is not enrolled."""
    feeds: list[CameraFeedLike] = field(default_factory=list)
    """Camera loops started by gate screens, stopped and waited for before the database is closed."""
    card_reader: CardReader = field(default_factory=CardReader)
    """OCR for resident ID cards held to the camera (its engine loads on the first card)."""
    sound: SoundPlayer = field(default_factory=lambda: SoundPlayer(SoundSettings(SoundMode.OFF)))
    """The verdict sounds, started by the app (`run_kiosk` gives the configured player; silent otherwise)."""

    @property
    def store(self) -> GateStore:
        assert self.gate.store is not None
        return self.gate.store

    @cached_property
    def sync_record(self) -> SyncState:
        """The sync tables in the gate database, read through the kiosk's own connection."""
        return SyncState(self.store)

    @cached_property
    def duty(self) -> DutyLog:
        """The gate's duty log (`kiosk.duty_log`), through the kiosk's own connection."""
        return DutyLog(self.store)

    def note_duty(self, kind: DutyKind, detail: str = "") -> None:
        """Record a change of the gate's state for HQ's duty timeline; a database that cannot take it is not a
        reason to stop the gate (the entry log says so on its own)."""
        try:
            self.duty.note(kind, self.clock(), detail)
        except (StoreError, sqlite3.Error):
            pass

    def sync_status(self) -> SyncStatus:
        """The sync status as the gate database records it (no network), whoever synced last."""
        return read_status(self.sync_record, enrolled=is_enrolled(self.config))

    def run_sync(
        self, report: Callable[[SyncStatus], None], warn: Callable[[str], None], cancelled: Callable[[], bool]
    ) -> None:
        """Sync with HQ every `sync_interval_seconds` until `cancelled()` (checked at least every quarter second
        while waiting, between upload batches and before each retry), reporting each run's status.

        After each run the rules in force are refreshed before the status is reported, so when it applied a
        new HQ bundle the next code is judged by its keys and policy (the lists themselves are read from the
        database at every judgement). Runs in a thread worker: it never touches the UI itself."""
        assert self.sync is not None

        def synced(status: SyncStatus) -> None:
            self.refresh_rules(warn)
            report(status)

        self.sync.run(should_stop=cancelled, on_status=synced)

    @property
    def rules(self) -> RulesInForce:
        """The owner of the rules the gate judges by (`kiosk.rules_in_force`)."""
        assert self.gate.in_force is not None
        return self.gate.in_force

    def refresh_rules(self, warn: Callable[[str], None]) -> None:
        """Put in force the keys and policy the gate database holds now (after this kiosk's sync, or a sync or
        `trust import` run from another terminal); if they cannot be read, the rules in force stay and `warn`
        says so, once."""
        try:
            self.rules.refresh()
        except (TrustError, PolicyError, StoreError) as exc:
            warn(_("HQ's new keys or policy could not be put in force ({error}); the previous ones stay.").format(error=exc))

    def entry_logged(self) -> None:
        """An entry was just committed: sync now rather than at the end of the interval (when online, it
        reaches HQ within seconds)."""
        if self.sync is not None:
            self.sync.wake()

    def close(self) -> None:
        """Stop the camera loops (each ends within half a second), then close the databases. The app's sync
        worker has ended by now: the app waits for its workers' threads before `run` returns."""
        for feed in self.feeds:
            feed.stop()
        for feed in self.feeds:
            feed.wait(5.0)
        if self.sync is not None:
            self.sync.close()
        self.sound.close()
        self.operators.close()
        self.store.close()


BACKGROUND_RETRY_SECONDS = 5.0
"""The kiosk's sync worker gives up on a failing request after this long (or the config's
`sync_retry_seconds`, if shorter): it tries again at the next interval anyway, and a short budget lets the
indicator say "offline" within seconds and lets the app quit without waiting out a backoff."""


def open_kiosk(config: KioskConfig, **options: object) -> KioskContext:
    """Open the gate and its operators for the app, and its sync with HQ when enrolled; purge entries past
    retention as every start does (an enrolled gate keeps those HQ does not have yet)."""
    gate = open_gate(config)
    if "sync" not in options:
        options["sync"] = None
        if is_enrolled(config):
            from kiosk.uplink.client import SyncService  # the HTTP client: loaded only by a gate that syncs

            options["sync"] = SyncService(config, retry_seconds=min(config.sync_retry_seconds, BACKGROUND_RETRY_SECONDS))
    context = KioskContext(config=config, gate=gate, operators=OperatorBook(config.database), **options)  # type: ignore[arg-type]
    purged = purge_entries(config, context.store)
    if purged.purged or purged.kept_unsent:
        text = purged.describe()
        context.notes.append(text[0].upper() + text[1:] + ".")
    if len(gate.trust) == 0:
        context.notes.append(_("No trusted issuer keys: every code will be refused. Check trust_dir in the config."))
    id_key_text, id_key_warning = id_keys.describe(context.store, config.district_key_file)
    if id_key_warning:
        context.notes.append(_("District key: {state}.").format(state=id_key_text))
    return context
