"""The kiosk in Chinese (zh_CN) at 80x24 and 120x40: the gate screen, each verdict, the forms, the log and the
handover (pytest-textual-snapshot; update with --snapshot-update after a deliberate change).

The whole app runs as a keeper with `language = "zh_CN"` sees it: every word from the catalogs, reasons worded
from their codes, times in the district's zone (Asia/Shanghai, 8 hours ahead of the UTC clock), the verdict in
large Chinese glyphs. Chinese characters are two cells wide: these pictures are where a cut label would show.
Besides the pictures, each test checks in words that nothing English is left where the keeper reads.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from kiosk.demo import FRAMES, demo_config, people, prepare_demo
from kiosk.demo.generate import demo_id
from kiosk.keeper_locale import set_zone, speak
from kiosk.ui.app import GateApp
from kiosk.ui.context import KioskContext
from kiosk.ui.screens.entry_forms import ManualEntryScreen, VisitorScreen
from kiosk.ui.screens.handover import HandoverScreen
from kiosk.ui.screens.log import LogScreen
from tests.functional.ui_support import open_context, preview_fits, text_of, verdict_word, wait_for

NOW = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
NO_CAMERA = "/nonexistent/camera"
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.fixture(autouse=True)
def chinese() -> Iterator[None]:
    speak("zh_CN")
    set_zone("Asia/Shanghai")
    yield
    speak("en")
    set_zone(None)


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., GateApp]]:
    contexts: list[KioskContext] = []

    def make(source: str = NO_CAMERA, **options: Any) -> GateApp:
        config = demo_config(tmp_path / "gate.db", source=source)
        prepare_demo(config)
        options.setdefault("source_label", "快照摄像头")
        context = open_context(config, clock=lambda: NOW, **options)
        contexts.append(context)
        return GateApp(context)

    yield make
    for context in contexts:
        context.close()


def camera_with(tmp_path: Path, frame: str) -> str:
    camera = tmp_path / "camera"
    camera.mkdir()
    shutil.copy(FRAMES / frame, camera)
    return str(camera)


async def no_camera(pilot: Pilot[Any]) -> None:
    await wait_for(pilot, lambda: "没有摄像头" in text_of(pilot, "#camera-message"))


async def manual_resident(pilot: Pilot[Any]) -> None:
    await pilot.press("m", *demo_id(9), "tab", *"Chen Yi", "enter")
    await wait_for(pilot, lambda: verdict_word(pilot) == "放行")


async def refused_visitor(pilot: Pilot[Any]) -> None:
    await pilot.press("v")
    for value in ("Zhou Ba", "13812345678", "3-2-501", "family visit"):
        await pilot.press(*value, "tab")
    await pilot.click("#submit")
    await wait_for(pilot, lambda: verdict_word(pilot) == "禁止通行")


async def steady_cursors(pilot: Pilot[Any]) -> None:
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_gate_waiting(snap_compare: Any, make_app: Callable[..., GateApp], size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await no_camera(pilot)
        assert verdict_word(pilot) == "请扫码"

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_pass(snap_compare: Any, make_app: Callable[..., GateApp], size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await no_camera(pilot)
        await manual_resident(pilot)
        reasons = text_of(pilot, "#verdict-reasons")
        assert "本小区住户" in reasons and "不在指挥部红黄码名单上" in reasons
        assert "17:30:00" in text_of(pilot, "#verdict-who")  # 09:30 UTC in Asia/Shanghai

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_hold(
    snap_compare: Any, make_app: Callable[..., GateApp], tmp_path: Path, size: tuple[int, int]
) -> None:
    yellow = next(p.file for p in people() if p.expect == "hold")
    app = make_app(camera_with(tmp_path, yellow), loop_source=True, frame_interval=0.1)
    image = cv2.imread(str(FRAMES / yellow))

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: verdict_word(pilot) == "人工核验")
        assert "黄码" in text_of(pilot, "#verdict-reasons")
        await wait_for(pilot, lambda: preview_fits(pilot, image))  # the picture redrawn at the verdict's layout

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_refusal(snap_compare: Any, make_app: Callable[..., GateApp], size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await no_camera(pilot)
        await refused_visitor(pilot)
        assert "非本小区住户，且无指挥部签发的有效通行证" in text_of(pilot, "#verdict-reasons")

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_manual_entry_form_with_a_mistyped_id(
    snap_compare: Any, make_app: Callable[..., GateApp], size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await no_camera(pilot)
        await pilot.press("m", *demo_id(9)[:-1], "1", "enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ManualEntryScreen))
        await wait_for(pilot, lambda: "校验位" in text_of(pilot, "#form-error"))
        await steady_cursors(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_visitor_form(snap_compare: Any, make_app: Callable[..., GateApp], size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await no_camera(pilot)
        await pilot.press("v", *"Zhou Ba", "tab", "tab", "enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, VisitorScreen))
        await wait_for(pilot, lambda: "手机号" in text_of(pilot, "#form-error"))
        await steady_cursors(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_log(snap_compare: Any, make_app: Callable[..., GateApp], size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await no_camera(pilot)
        await manual_resident(pilot)
        await refused_visitor(pilot)
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, LogScreen))
        await wait_for(pilot, lambda: "显示 2 条" in str(pilot.app.screen.query_one("#log-title").render()))
        await steady_cursors(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_handover(snap_compare: Any, make_app: Callable[..., GateApp], size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await no_camera(pilot)
        await manual_resident(pilot)
        await refused_visitor(pilot)
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HandoverScreen))
        summary = text_of(pilot, "#handover-summary")
        assert "无有效通行证" in summary and "核验人次" in summary

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)
