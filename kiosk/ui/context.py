"""Everything the kiosk app runs on, opened once before the first screen: no Textual here.

Opening the gate (config, keys, policy, database) happens before the terminal is taken over, so a broken
configuration is one readable line on the command line rather than a screen that cannot work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kiosk.config import DEFAULT_DATA, KioskConfig
from kiosk.gate import Gate, open_gate
from kiosk.operators import Operator, OperatorBook
from kiosk.store import GateStore

if TYPE_CHECKING:
    from kiosk.ui.sync_status import SyncState


SyncRunner = Callable[[Callable[["SyncState"], None], Callable[[], bool]], None]
"""`runner(report, cancelled)`: sync in the background until `cancelled()` is true, calling `report(state)`
whenever there is news for the indicator. It runs in a thread worker; it must never touch the UI itself."""


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
    config_file: Path | None = None
    signed_in: Operator | None = None
    """An operator already signed in at start (the demo's); otherwise the sign-in screen comes first."""
    frame_interval: float = 0.0
    """Seconds each frame of a file source stays in front of the 'camera' (the demo's pacing)."""
    loop_source: bool = False
    source_label: str = ""
    """How to name the camera on screen; by default the source's own description."""
    """Replay a folder of images for ever (the demo) instead of ending after the last one."""
    reconnect_seconds: float = 2.0
    """How often a missing or lost camera is tried again."""
    preview_fps: float = 4.0
    """Camera preview refreshes per second; decoding runs on every frame regardless."""
    exports_dir: Path = DEFAULT_DATA / "exports"
    clock: Callable[[], datetime] = utc_now
    notes: list[str] = field(default_factory=list)
    """Things to tell the keeper once the screen is up (entries purged on start, missing keys...)."""
    sync_runner: SyncRunner | None = None
    """The background sync (sync/client.py), started with the app when the gate is enrolled."""
    feeds: list[CameraFeedLike] = field(default_factory=list)
    """Camera loops started by gate screens, stopped and waited for before the database is closed."""

    @property
    def store(self) -> GateStore:
        assert self.gate.store is not None
        return self.gate.store

    def close(self) -> None:
        """Stop the camera loops (each ends within half a second), then close the database."""
        for feed in self.feeds:
            feed.stop()
        for feed in self.feeds:
            feed.wait(5.0)
        self.operators.close()
        self.store.close()


def open_kiosk(config: KioskConfig, **options: object) -> KioskContext:
    """Open the gate and its operators for the app; purge entries past retention as every start does."""
    gate = open_gate(config)
    context = KioskContext(config=config, gate=gate, operators=OperatorBook(config.database), **options)  # type: ignore[arg-type]
    purged = context.store.purge(config.retention_days)
    if purged:
        context.notes.append(f"Purged {purged} entries older than {config.retention_days} days.")
    if len(gate.trust) == 0:
        context.notes.append("No trusted issuer keys: every code will be refused. Check trust_dir in the config.")
    if gate.district_key is None:
        context.notes.append("No district key: manual entry cannot check ID numbers. Set district_key_file.")
    return context
