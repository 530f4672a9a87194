"""Snapshots of the kiosk's screens in their main states (pytest-textual-snapshot; update with --snapshot-update).

Each app runs on a fixed clock in UTC with a camera that is either absent or the shipped demo frame, so the
pictures only change when the screens do.
"""

from __future__ import annotations

import shutil
import time
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
from kiosk.operators import OperatorBook
from kiosk.ui.app import GateApp
from kiosk.ui.context import KioskContext
from kiosk.ui.screens.entry_forms import ManualEntryScreen
from tests.functional.ui_support import KEEPER, open_context, preview_fits, text_of, verdict_word, wait_for

NOW = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
NO_CAMERA = "/nonexistent/camera"


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

    def make(source: str = NO_CAMERA, **options: Any) -> GateApp:
        config = demo_config(tmp_path / "gate.db", source=source)
        prepare_demo(config)
        options.setdefault("source_label", "snapshot camera")
        context = open_context(config, clock=lambda: NOW, **options)
        contexts.append(context)
        return GateApp(context)

    yield make
    for context in contexts:
        context.close()


async def manual_resident(pilot: Pilot[Any]) -> None:
    await pilot.press("m", *demo_id(9), "tab", *"Chen Yi", "enter")
    await wait_for(pilot, lambda: verdict_word(pilot) == "PASS")


async def steady_cursors(pilot: Pilot[Any]) -> None:
    """Stop the text cursors blinking (Textual then draws them steadily), so a picture taken half a second
    later, as on a loaded machine, is the same picture."""
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


async def no_camera(pilot: Pilot[Any]) -> None:
    await wait_for(pilot, lambda: "No camera" in text_of(pilot, "#camera-message"))


def test_gate_waiting_with_no_camera(snap_compare: Any, make_app: Callable[..., GateApp]) -> None:
    assert snap_compare(make_app(), run_before=no_camera)


def test_gate_pass_after_manual_entry(snap_compare: Any, make_app: Callable[..., GateApp]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await no_camera(pilot)
        await manual_resident(pilot)

    assert snap_compare(make_app(), run_before=run_before)


def test_gate_refused_visitor(snap_compare: Any, make_app: Callable[..., GateApp]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await no_camera(pilot)
        await pilot.press("v")
        for value in ("Zhou Ba", "13812345678", "3-2-501", "family visit"):
            await pilot.press(*value, "tab")
        await pilot.click("#submit")
        await wait_for(pilot, lambda: verdict_word(pilot) == "REFUSED")

    assert snap_compare(make_app(), run_before=run_before)


def test_manual_entry_with_a_mistyped_id(snap_compare: Any, make_app: Callable[..., GateApp]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await no_camera(pilot)
        await pilot.press("m", *demo_id(9)[:-1], "1", "enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ManualEntryScreen))
        await wait_for(pilot, lambda: "check digit" in text_of(pilot, "#form-error"))
        await steady_cursors(pilot)

    assert snap_compare(make_app(), run_before=run_before)


def test_gate_pass_from_the_camera_in_a_large_terminal(
    snap_compare: Any, make_app: Callable[..., GateApp], tmp_path: Path
) -> None:
    camera = tmp_path / "camera"
    camera.mkdir()
    shutil.copy(FRAMES / people()[0].file, camera)
    app = make_app(str(camera), loop_source=True, frame_interval=0.1)

    image = cv2.imread(str(FRAMES / people()[0].file))

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: verdict_word(pilot) == "PASS")
        await wait_for(pilot, lambda: preview_fits(pilot, image))

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_sign_in_screen(snap_compare: Any, make_app: Callable[..., GateApp], tmp_path: Path) -> None:
    app = make_app(signed_in=None, demo=False)
    with OperatorBook(tmp_path / "gate.db") as book:
        book.add(KEEPER.id, KEEPER.name, "4821")

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.press(*"li01", "tab", *"12")
        await steady_cursors(pilot)

    assert snap_compare(app, run_before=run_before)


def test_handover_summary(snap_compare: Any, make_app: Callable[..., GateApp]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await no_camera(pilot)
        await manual_resident(pilot)
        await pilot.press("o")

    assert snap_compare(make_app(), run_before=run_before)
