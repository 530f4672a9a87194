"""The red-code incident screen (issue 19): a red-listed person refused at a gate whose district set a procedure
shows the procedure from HQ's bundle; one key records what was done, kept to be sent to HQ ahead of the backlog.
Snapshots at 80x24 in English and in Chinese (pytest-textual-snapshot; update with --snapshot-update)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from kiosk.demo import demo_config, prepare_demo
from kiosk.demo.generate import demo_id
from kiosk.incidents import keep_procedure, unsent
from kiosk.keeper_locale import set_zone, speak
from kiosk.store import GateStore
from kiosk.ui.app import GateApp
from kiosk.ui.context import KioskContext
from kiosk.ui.screens.incident import IncidentScreen
from sync.core.protocol import IncidentProcedure
from tests.functional.ui_support import open_context, text_of, verdict_word, wait_for

NOW = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
NO_CAMERA = "/nonexistent/camera"
RED_LISTED = demo_id(8)
PROCEDURE = IncidentProcedure(
    steps=["Keep the person apart, outside the gate", "Call the health team and wait with them",
           "Write down who they came with"],
    phone="12320-7",
)
ZH_PROCEDURE = IncidentProcedure(
    steps=["请此人在门外单独等候，保持距离", "拨打防疫电话并陪同等候", "登记同行人员"], phone="12320-7"
)


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., GateApp]]:
    contexts: list[KioskContext] = []

    def make(procedure: IncidentProcedure | None = PROCEDURE) -> GateApp:
        config = demo_config(tmp_path / "gate.db", source=NO_CAMERA)
        prepare_demo(config)
        with GateStore(config.database, config.gate_id) as store:
            keep_procedure(store, procedure)
        context = open_context(config, clock=lambda: NOW, source_label="snapshot camera")
        contexts.append(context)
        return GateApp(context)

    yield make
    for context in contexts:
        context.close()


async def red_listed_refused(pilot: Pilot[Any]) -> None:
    await wait_for(pilot, lambda: text_of(pilot, "#camera-message") != "")
    await pilot.press("m", *RED_LISTED, "tab", *"Zhao Liu", "enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, IncidentScreen))
    await pilot.pause()


def test_incident_screen_at_80x24(snap_compare: Any, make_app: Callable[..., GateApp]) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=red_listed_refused)


def test_incident_screen_in_chinese_at_80x24(snap_compare: Any, make_app: Callable[..., GateApp]) -> None:
    speak("zh_CN")
    set_zone("Asia/Shanghai")
    try:
        assert snap_compare(make_app(ZH_PROCEDURE), terminal_size=(80, 24), run_before=red_listed_refused)
    finally:
        speak("en")
        set_zone(None)


async def _run(app: GateApp, scenario: Callable[[Pilot[Any]], Any]) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await scenario(pilot)


def test_the_keeper_records_what_was_done(make_app: Callable[..., GateApp]) -> None:
    app = make_app()

    async def scenario(pilot: Pilot[Any]) -> None:
        await red_listed_refused(pilot)
        assert "12320-7" in text_of(pilot, "#incident-procedure")
        await pilot.press("2")
        await wait_for(pilot, lambda: not isinstance(pilot.app.screen, IncidentScreen))

    asyncio.run(_run(app, scenario))
    waiting = unsent(app.context.store, 10)
    assert [(i.outcome, i.subject is not None, i.reasons[0]) for i in waiting] == [
        ("waiting for the health team", True, "on HQ's red list")
    ]


def test_no_procedure_from_hq_asks_nothing(make_app: Callable[..., GateApp]) -> None:
    app = make_app(procedure=None)

    async def scenario(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: text_of(pilot, "#camera-message") != "")
        await pilot.press("m", *RED_LISTED, "tab", *"Zhao Liu", "enter")
        await wait_for(pilot, lambda: verdict_word(pilot) == "REFUSED")
        await pilot.pause()
        assert not isinstance(pilot.app.screen, IncidentScreen)

    asyncio.run(_run(app, scenario))
    assert unsent(app.context.store, 10) == []
