"""A resident ID card held to the camera (issue 12): read by the real OCR (RapidOCR, its bundled PP-OCRv4 models)
from a synthetic card drawn in Noto Sans CJK, through the real kiosk and the `pocket-kiosk idcard` command."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
from click.testing import CliRunner
from textual.widgets import Input

from kiosk.cli import main as kiosk_main
from kiosk.demo.generate import demo_id
from kiosk.demo.idcard_image import CardFace, Holding, held_frame
from kiosk.ui.screens.entry_forms import ManualEntryScreen
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

RESIDENT = CardFace("陈依", demo_id(9))
"""On the kit's roster by this number."""


def test_a_card_held_to_the_camera_fills_the_form_and_only_the_keepers_confirmation_logs(tmp_path: Path, kit: Kit) -> None:
    camera = tmp_path / "camera"
    camera.mkdir()
    cv2.imwrite(str(camera / "card.png"), held_frame(RESIDENT, Holding(angle=6, glare=0.4, jpeg=70)))
    config = gate_config(tmp_path, kit, camera)
    context = open_context(config)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test() as pilot:
            await wait_for(pilot, lambda: pilot.app.screen.feed.latest is not None)
            await pilot.press("c")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, ManualEntryScreen))
            form = pilot.app.screen
            await wait_for(pilot, lambda: "Read from the card" in text_of(pilot, "#form-error"), 60)
            assert form.query_one("#f-id_number", Input).value == RESIDENT.number
            assert form.query_one("#f-name", Input).value == RESIDENT.name
            assert entries(config) == []  # read, not yet confirmed
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, GateScreen) and verdict_word(pilot) == "PASS")

    run(scenario, context)
    assert [(r["code_type"], r["verdict"], r["name"]) for r in entries(config)] == [("manual", "pass", "陈*")]
    assert list(tmp_path.glob("**/*card*")) == [camera / "card.png"]  # the card image was never stored


def test_idcard_command_prints_number_check_and_name_per_image(tmp_path: Path) -> None:
    good = tmp_path / "good.jpg"
    cv2.imwrite(str(good), held_frame(RESIDENT, Holding(scale=0.6, brightness=0.6)))
    wrong = RESIDENT.number[:-1] + ("0" if RESIDENT.number[-1] != "0" else "1")
    bad = tmp_path / "bad.png"
    cv2.imwrite(str(bad), held_frame(CardFace("李四", wrong)))
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), held_frame(RESIDENT, Holding(brightness=0.02)))
    missing = tmp_path / "missing.png"
    result = CliRunner().invoke(kiosk_main, ["idcard", "--json", *(f"--image={p}" for p in (good, bad, blank, missing))])
    assert result.exit_code == 1, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    picked = [(r["image"], r["number"], r["check_digit_ok"], r["name"]) for r in records]
    assert picked == [
        (str(good), RESIDENT.number, True, RESIDENT.name),
        (str(bad), wrong, False, "李四"),
        (str(blank), None, False, None),
        (str(missing), None, False, None),
    ]
    assert records[0]["confidence"] > 0.8 and "check digit" in records[1]["problem"]
    assert records[3]["error"] == "image cannot be read"
