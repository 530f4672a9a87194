"""The sync indicator: what the store can tell before any sync, and what a background sync runner reports."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.demo.generate import demo_id
from kiosk.ui.sync_status import SYNC_CURSOR, SyncState
from tests.functional.ui_support import (
    Kit,
    Recorder,
    gate_config,
    kit,  # noqa: F401  (fixture)
    open_context,
    recorded_app,
    run,
    text_of,
    verdict_word,
    wait_for,
)


def test_before_enrolment_the_indicator_says_not_enrolled_and_counts_every_entry_waiting(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    context = open_context(config)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test() as pilot:
            await wait_for(pilot, lambda: "not enrolled · 0 waiting" in text_of(pilot, "#sync-status"))
            await pilot.press("m", *demo_id(9), "tab", *"Chen Yi", "enter")
            await wait_for(pilot, lambda: verdict_word(pilot) == "PASS")
            await wait_for(pilot, lambda: "not enrolled · 1 waiting" in text_of(pilot, "#sync-status"))
            context.store.set_meta({SYNC_CURSOR: "1"})  # as sync records an upload HQ acknowledged
            pilot.app.screen.refresh_sync()
            await wait_for(pilot, lambda: "not tried yet · 0 waiting" in text_of(pilot, "#sync-status"))

    try:
        run(scenario)
    finally:
        context.close()


def test_a_background_sync_runner_feeds_the_indicator_and_stops_with_the_app(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    stopped = threading.Event()
    synced = datetime.now(UTC) - timedelta(minutes=3)

    def runner(report: Callable[[SyncState], None], cancelled: Callable[[], bool]) -> None:
        report(SyncState(enrolled=True, waiting=4, online=False, error="HQ refused the token (401)"))
        report(SyncState(enrolled=True, waiting=0, online=True, last_sync=synced))
        while not cancelled():
            threading.Event().wait(0.05)
        stopped.set()

    context = open_context(config, sync_runner=runner)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test(size=(100, 24)) as pilot:
            await wait_for(pilot, lambda: "online · 0 waiting · synced 3 min ago" in text_of(pilot, "#sync-status"))

    try:
        run(scenario)
    finally:
        context.close()
    assert stopped.wait(5)
