"""The kiosk in front of a live camera: a network camera on 127.0.0.1 (MJPEG over HTTP, read by OpenCV as a
real one is) that the test points at codes, unplugs and plugs back in, with the real app driven by Pilot."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.duty_log import DutyLog
from kiosk.sound.cues import Cue
from kiosk.store import GateStore
from kiosk.demo.generate import demo_id
from kiosk.ui.banner import VerdictBanner
from kiosk.ui.messages import CameraStatus, FramePreview, VerdictReady
from kiosk.ui.screens.entry_forms import VisitorScreen
from kiosk.ui.screens.gate import GateScreen
from tests.functional.ui_support import (
    Kit,
    Recorder,
    entries,
    gate_config,
    kit,  # noqa: F401  (fixture)
    open_context,
    recorded_app,
    run,
    text_of,
    verdict_word,
    wait_for,
)
from tests.mjpeg_camera import MjpegCamera


@pytest.fixture
def camera() -> Iterator[MjpegCamera]:
    camera = MjpegCamera().plug_in()
    yield camera
    camera.unplug()


def verdicts(recorder: Recorder) -> list[str]:
    return [m.outcome.assessment.verdict.decision.value for m in recorder.of(VerdictReady)]


def test_nobody_is_judged_while_a_form_covers_the_verdicts(tmp_path: Path, kit: Kit, camera: MjpegCamera) -> None:
    """A person who holds up a code while the keeper types a visitor in is judged when the form closes, where
    the keeper sees it, not behind the form."""
    config = gate_config(tmp_path, kit, camera.url)
    context = open_context(config)
    recorder = Recorder()

    async def scenario() -> None:
        async with recorded_app(context, recorder).run_test(message_hook=recorder) as pilot:
            await wait_for(pilot, lambda: any(m.state == "live" for m in recorder.of(CameraStatus)))
            await pilot.press("v")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, VisitorScreen))
            camera.show(kit.frame("01"))
            previews = len(recorder.of(FramePreview))
            await wait_for(pilot, lambda: len(recorder.of(FramePreview)) >= previews + 4)  # the code was in view
            assert recorder.of(VerdictReady) == [] and entries(config) == []
            await pilot.press("escape")
            await wait_for(pilot, lambda: verdict_word(pilot) == "PASS")
            assert "Z**** S**" in text_of(pilot, "#verdict-who")

    run(scenario, context)
    assert [(r["code_type"], r["verdict"]) for r in entries(config)] == [("PGC1", "pass")]


def test_a_camera_unplugged_mid_shift_is_reported_and_reconnects_by_itself(
    tmp_path: Path, kit: Kit, camera: MjpegCamera
) -> None:
    config = gate_config(tmp_path, kit, camera.url, banner_seconds=1)
    context = open_context(config)
    recorder = Recorder()

    async def scenario() -> None:
        async with recorded_app(context, recorder).run_test(message_hook=recorder) as pilot:
            camera.show(kit.frame("01"))
            await wait_for(pilot, lambda: verdict_word(pilot) == "PASS")
            camera.unplug()
            await wait_for(pilot, lambda: "Camera lost" in text_of(pilot, "#camera-message"))
            await wait_for(pilot, lambda: "No camera: type people in instead" in text_of(pilot, "#verdict-who"))
            await pilot.press("m", *demo_id(9), "tab", *"Chen Yi", "enter")  # the gate keeps working
            await wait_for(pilot, lambda: "manual entry" in text_of(pilot, "#verdict-who"))
            camera.show(kit.frame("07"))
            camera.plug_in()
            await wait_for(pilot, lambda: "courier" in text_of(pilot, "#verdict-reasons"))
            assert verdict_word(pilot) == "PASS"
            await wait_for(pilot, lambda: "Show the health code to the camera" in text_of(pilot, "#verdict-who"))

    run(scenario, context)
    states = [m.state for m in recorder.of(CameraStatus)]
    assert states[0] == "live" and "lost" in states and states[-1] == "live"
    assert [r["code_type"] for r in entries(config)] == ["PGC1", "manual", "PGC1"]
    with GateStore(config.database, config.gate_id) as store:  # for HQ's duty timeline (proof of duty)
        kinds = [event["kind"] for event in DutyLog(store).waiting()]
    assert "shift_on" in kinds
    assert [kind for kind in kinds if kind.startswith("camera")] == ["camera_back", "camera_lost", "camera_back"]


def test_a_yellow_code_is_held_in_amber_and_the_banner_clears_itself(tmp_path: Path, kit: Kit, camera: MjpegCamera) -> None:
    config = gate_config(tmp_path, kit, camera.url, banner_seconds=1)
    context = open_context(config)
    recorder = Recorder()

    async def scenario() -> None:
        async with recorded_app(context, recorder).run_test() as pilot:
            camera.show(kit.frame("02"))
            await wait_for(pilot, lambda: verdict_word(pilot) == "HOLD")
            banner = pilot.app.screen.query_one(VerdictBanner)
            assert banner.has_class("-hold") and "yellow code" in text_of(pilot, "#verdict-reasons")
            assert "Stop them and check" in text_of(pilot, "#verdict-note")
            await wait_for(pilot, lambda: verdict_word(pilot) == "READY")
            assert banner.has_class("-idle") and "Held 1" in text_of(pilot, "#counters")

    run(scenario, context)
    assert recorder.sounds == [Cue.HOLD]
    assert [r["verdict"] for r in entries(config)] == ["hold"]


def test_a_temperature_typed_before_a_scan_goes_with_that_scan(tmp_path: Path, kit: Kit, camera: MjpegCamera) -> None:
    config = gate_config(tmp_path, kit, camera.url)
    context = open_context(config)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test() as pilot:
            await pilot.press("t", *"36.8", "enter")
            assert "36.8 °C goes with the next person" in text_of(pilot, "#temperature-note")
            camera.show(kit.frame("01"))
            await wait_for(pilot, lambda: verdict_word(pilot) == "PASS")
            assert "36.8 °C" in text_of(pilot, "#verdict-note")
            assert "before or right after" in text_of(pilot, "#temperature-note")

    run(scenario, context)
    assert [r["temperature"] for r in entries(config)] == [36.8]


def test_a_temperature_typed_while_someone_new_is_scanned_is_not_given_to_either_without_asking(
    tmp_path: Path, kit: Kit, camera: MjpegCamera
) -> None:
    config = gate_config(tmp_path, kit, camera.url, banner_seconds=60)
    context = open_context(config)
    recorder = Recorder()

    async def scenario() -> None:
        async with recorded_app(context, recorder).run_test(message_hook=recorder) as pilot:
            camera.show(kit.frame("01"))
            await wait_for(pilot, lambda: verdicts(recorder) == ["pass"])
            await pilot.press("t", *"38.2")  # typing for Zhang San...
            camera.show(kit.frame("07"))  # ...when the courier steps up and is scanned
            await wait_for(pilot, lambda: verdicts(recorder) == ["pass", "pass"])
            await pilot.press("enter")
            assert "Someone new was scanned" in text_of(pilot, "#temperature-note")
            assert len(entries(config)) == 2  # nobody re-judged yet, and the field still holds 38.2
            assert pilot.app.screen.focused is pilot.app.screen.query_one("#temperature")
            await pilot.press("enter")  # the keeper confirms: it is the courier's
            await wait_for(pilot, lambda: verdict_word(pilot) == "REFUSED")
            assert "temperature 38.2" in text_of(pilot, "#verdict-reasons") and "re-judged" in text_of(pilot, "#verdict-note")
            assert isinstance(pilot.app.screen, GateScreen) and pilot.app.screen.focused is None

    run(scenario, context)
    zhang, courier, amended = entries(config)
    assert json.loads(amended["details"])["amends"] == courier["id"]
    assert (zhang["temperature"], amended["temperature"], amended["verdict"]) == (None, 38.2, "refuse")
