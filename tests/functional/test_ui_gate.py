"""The kiosk app driven as a keeper would (App.run_test + Pilot) on real code images and a real gate database."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from textual.widgets import Input

from kiosk.sound.clips import SoundSettings
from kiosk.sound.cues import Cue, SoundMode
from kiosk.sound.player import SoundPlayer
from kiosk.demo import FRAMES, demo_config, people, prepare_demo
from kiosk.demo.generate import demo_id
from kiosk.ui.app import GateApp
from kiosk.ui.messages import CameraStatus, EntryFailed, VerdictReady
from kiosk.ui.screens.entry_forms import ManualEntryScreen
from kiosk.ui.screens.gate import GateScreen
from tests.functional.ui_support import (
    KEEPER,
    MARKUP_NAME,
    Kit,
    Recorder,
    camera_folder,
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


def test_demo_shows_every_kind_of_verdict_each_logged_before_it_is_shown(tmp_path: Path) -> None:
    config = demo_config(tmp_path / "demo.db")
    prepare_demo(config)
    context = open_context(config, demo=True, frame_interval=0.05)
    recorder = Recorder(database=config.database)
    expected = people()

    async def scenario() -> None:
        app = recorded_app(context, recorder)
        async with app.run_test(message_hook=recorder) as pilot:
            await wait_for(pilot, lambda: len(recorder.of(VerdictReady)) == len(expected), 30)
            await wait_for(pilot, lambda: any(m.state == "ended" for m in recorder.of(CameraStatus)))

    run(scenario, context)
    verdicts = recorder.of(VerdictReady)
    logged = {row["id"]: row for row in entries(config)}
    assert len(logged) == len(expected)
    for person, message in zip(expected, verdicts, strict=True):
        verdict = message.outcome.assessment.verdict
        assert verdict.decision.value == person.expect, person.file
        assert any(person.reason in reason for reason in verdict.reasons), (person.file, verdict.reasons)
        assert message.outcome.entry.id in logged
        assert logged[message.outcome.entry.id]["operator"] == KEEPER.id
    assert {m.outcome.assessment.verdict.decision.value for m in verdicts} == {"pass", "hold", "refuse"}
    assert recorder.logged_when_shown == dict.fromkeys(logged, True)
    assert (FRAMES / expected[0].file).exists()


def test_a_green_code_shows_pass_and_logs_one_entry(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, camera_folder(tmp_path, kit, "01"))
    context = open_context(config)
    recorder = Recorder()

    async def scenario() -> None:
        async with recorded_app(context, recorder).run_test() as pilot:
            await wait_for(pilot, lambda: verdict_word(pilot) == "PASS")
            assert "Z**** S**" in text_of(pilot, "#verdict-who")
            assert "resident" in text_of(pilot, "#verdict-reasons")
            assert "Let in 1" in text_of(pilot, "#counters")

    run(scenario, context)
    assert recorder.sounds == [Cue.PASS]
    rows = entries(config)
    assert [(r["verdict"], r["code_type"], r["operator"]) for r in rows] == [("pass", "PGC1", KEEPER.id)]


def test_a_red_code_is_refused_with_its_reason_and_its_sound(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, camera_folder(tmp_path, kit, "03"))
    context = open_context(config)
    recorder = Recorder()

    async def scenario() -> None:
        async with recorded_app(context, recorder).run_test() as pilot:
            await wait_for(pilot, lambda: verdict_word(pilot) == "REFUSED")
            assert "red code" in text_of(pilot, "#verdict-reasons")
            assert "Do not let them through" in text_of(pilot, "#verdict-note")

    run(scenario, context)
    assert recorder.sounds == [Cue.REFUSE]
    assert [r["verdict"] for r in entries(config)] == ["refuse"]


def test_manual_entry_with_a_bad_check_digit_is_rejected_and_logs_nothing(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    context = open_context(config)
    good = demo_id(9)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test() as pilot:
            await pilot.press("m")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, ManualEntryScreen))
            await pilot.press(*bad, "tab", *"Chen Yi", "enter")
            await wait_for(pilot, lambda: "check digit" in text_of(pilot, "#form-error"))
            assert isinstance(pilot.app.screen, ManualEntryScreen)
            assert pilot.app.screen.focused is pilot.app.screen.query_one("#f-id_number")
            assert entries(config) == []
            # Corrected, the same form logs a resident who passes.
            field = pilot.app.screen.query_one("#f-id_number", Input)
            field.value = ""
            await pilot.press(*good, "enter")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, GateScreen))
            await wait_for(pilot, lambda: verdict_word(pilot) == "PASS")
            assert "manual entry" in text_of(pilot, "#verdict-who")

    run(scenario, context)
    rows = entries(config)
    assert [(r["code_type"], r["verdict"], r["name"]) for r in rows] == [("manual", "pass", "C*** Y*")]


def test_a_visitor_without_a_pass_is_refused_and_the_refusal_is_logged_with_the_visit(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    context = open_context(config)
    recorder = Recorder()

    async def scenario() -> None:
        async with recorded_app(context, recorder).run_test(size=(80, 24)) as pilot:
            await pilot.press("v")
            for value in ("Zhou Ba", "138 1234 5678", "3-2-501", "family visit"):
                await pilot.press(*value, "tab")
            await pilot.click("#submit")
            await wait_for(pilot, lambda: verdict_word(pilot) == "REFUSED")
            assert "visitor to 3-2-501" in text_of(pilot, "#verdict-who")
            assert "no valid pass" in text_of(pilot, "#verdict-reasons")

    run(scenario, context)
    (row,) = entries(config)
    details = json.loads(row["details"])
    assert (row["code_type"], row["verdict"], row["operator"]) == ("visitor", "refuse", KEEPER.id)
    assert (details["household"], details["reason"], details["phone"]) == ("3-2-501", "family visit", "138****5678")
    assert recorder.sounds == [Cue.REFUSE]


def test_direction_switches_with_one_key_and_is_logged(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    context = open_context(config)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test() as pilot:
            assert "ENTERING" in text_of(pilot, "#direction")
            await pilot.press("d")
            assert "LEAVING" in text_of(pilot, "#direction")
            await pilot.press("m", *demo_id(9), "tab", *"Chen Yi", "enter")
            await wait_for(pilot, lambda: "leaving" in text_of(pilot, "#verdict-who"))
            assert "Left 1" in text_of(pilot, "#counters")
            await pilot.press("d")
            assert "ENTERING" in text_of(pilot, "#direction")

    run(scenario, context)
    assert [r["direction"] for r in entries(config)] == ["out"]


def test_markup_and_control_characters_in_a_name_are_shown_literally(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, camera_folder(tmp_path, kit, "09"))
    context = open_context(config)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test() as pilot:
            await wait_for(pilot, lambda: verdict_word(pilot) == "PASS")
            who = text_of(pilot, "#verdict-who")
            assert "[bold red]Evil[/]" in who and "\\x1b[2J" in who and "\x1b" not in who
            # Nothing else on screen changed: the top bar and the counters are as they were.
            assert "north-gate" in text_of(pilot, "#who-is-on") and "Let in 1" in text_of(pilot, "#counters")

    run(scenario, context)
    assert entries(config)[0]["name"] == MARKUP_NAME


def test_a_missing_camera_is_reported_manual_entry_still_works_and_the_camera_reconnects(tmp_path: Path, kit: Kit) -> None:
    later = tmp_path / "camera-later"
    config = gate_config(tmp_path, kit, later)
    context = open_context(config)
    recorder = Recorder()

    async def scenario() -> None:
        async with recorded_app(context, recorder).run_test(message_hook=recorder) as pilot:
            await wait_for(pilot, lambda: "No camera" in text_of(pilot, "#camera-message"))
            await pilot.press("m", *demo_id(9), "tab", *"Chen Yi", "enter")
            await wait_for(pilot, lambda: "manual entry" in text_of(pilot, "#verdict-who"))
            later.mkdir()
            shutil.copy(kit.frame("01"), later)  # the camera is plugged back in
            await wait_for(pilot, lambda: "Z**** S**" in text_of(pilot, "#verdict-who"))
            assert verdict_word(pilot) == "PASS"

    run(scenario, context)
    states = [m.state for m in recorder.of(CameraStatus)]
    assert states[0] == "missing" and "live" in states
    assert [r["code_type"] for r in entries(config)] == ["manual", "PGC1"]


def test_a_temperature_typed_after_a_pass_rejudges_it_as_an_amending_entry(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, camera_folder(tmp_path, kit, "01"), banner_seconds=60)
    context = open_context(config)
    recorder = Recorder()

    async def scenario() -> None:
        async with recorded_app(context, recorder).run_test() as pilot:
            await wait_for(pilot, lambda: verdict_word(pilot) == "PASS")
            await pilot.press("t", *"38.2", "enter")
            await wait_for(pilot, lambda: verdict_word(pilot) == "REFUSED")
            assert "temperature 38.2" in text_of(pilot, "#verdict-reasons")
            assert "re-judged" in text_of(pilot, "#verdict-note")
            assert "Let in 0" in text_of(pilot, "#counters") and "Refused 1" in text_of(pilot, "#counters")
            assert pilot.app.screen.focused is None  # back to hands-off scanning

    run(scenario, context)
    first, second = entries(config)
    assert json.loads(second["details"])["amends"] == first["id"]
    assert (first["verdict"], second["verdict"], second["temperature"]) == ("pass", "refuse", 38.2)


def test_a_temperature_typed_before_is_kept_for_the_next_person(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    context = open_context(config)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test() as pilot:
            await pilot.press("t", *"36,7", "enter")
            assert "36.7 °C goes with the next person" in text_of(pilot, "#temperature-note")
            await pilot.press("m")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, ManualEntryScreen))
            assert pilot.app.screen.query_one("#f-temperature", Input).value == "36.7"
            await pilot.press(*demo_id(9), "tab", *"Chen Yi", "enter")
            await wait_for(pilot, lambda: "36.7 °C" in text_of(pilot, "#verdict-note"))
            assert "before or right after" in text_of(pilot, "#temperature-note")
            await pilot.press("t", *"99", "enter")
            assert "between 30 and 45" in text_of(pilot, "#temperature-note")

    run(scenario, context)
    assert [r["temperature"] for r in entries(config)] == [36.7]


def test_a_storage_failure_shows_not_logged_instead_of_a_verdict(tmp_path: Path, kit: Kit) -> None:
    later = tmp_path / "camera-later"
    config = gate_config(tmp_path, kit, later)
    context = open_context(config)
    recorder = Recorder()

    async def scenario() -> None:
        async with recorded_app(context, recorder).run_test(message_hook=recorder) as pilot:
            context.store.db.execute("PRAGMA query_only = ON")  # the disk refuses writes from now on
            later.mkdir()
            shutil.copy(kit.frame("01"), later)
            await wait_for(pilot, lambda: verdict_word(pilot) == "NOT LOGGED")
            assert "NOT logged" in text_of(pilot, "#verdict-reasons")

    run(scenario, context)
    assert recorder.of(VerdictReady) == [] and len(recorder.of(EntryFailed)) == 1
    assert recorder.sounds == [Cue.NOT_LOGGED]
    assert entries(config) == []


def test_an_unexpected_worker_error_is_shown_to_the_keeper(tmp_path: Path, kit: Kit) -> None:
    later = tmp_path / "camera-later"
    config = gate_config(tmp_path, kit, later)
    context = open_context(config)
    shown: list[str] = []

    async def scenario() -> None:
        app = recorded_app(context, Recorder())
        real_notify = app.notify
        app.notify = lambda message, **kw: (shown.append(message), real_notify(message, **kw))  # type: ignore[method-assign]
        async with app.run_test() as pilot:
            with sqlite3.connect(config.database) as other:  # the database is damaged under the camera worker
                other.execute("DROP TABLE roster")
            later.mkdir()
            shutil.copy(kit.frame("01"), later)
            await wait_for(pilot, lambda: "Camera stopped" in text_of(pilot, "#camera-message"))

    run(scenario, context)
    assert any("camera stopped" in message and "no such table: roster" in message for message in shown)


def test_a_wedged_speaker_never_delays_a_verdict_on_screen(tmp_path: Path, kit: Kit) -> None:
    """The kiosk's real sound player with a sink that takes each clip and never finishes nor stops when asked
    (a wedged aplay): the second verdict is on screen while the first clip still holds the sink."""
    log = tmp_path / "played.log"
    player = tmp_path / "bin" / "wedged-aplay"
    player.parent.mkdir()
    player.write_text(f"#!/bin/sh\nPATH=/usr/bin:/bin\necho \"start $$\" >> {log}\ntrap '' TERM\nsleep 600 & wait\n")
    player.chmod(0o755)
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    sound = SoundPlayer(SoundSettings(SoundMode.TONE), players=[[str(player)]], folder=tmp_path / "clips")
    context = open_context(config, sound=sound)

    async def scenario() -> None:
        async with GateApp(context).run_test() as pilot:
            await pilot.press("m", *demo_id(9), "tab", *"Chen Yi", "enter")
            await wait_for(pilot, lambda: verdict_word(pilot) == "PASS")
            await wait_for(pilot, lambda: log.exists() and log.read_text().count("start") == 1)  # the sink is held
            await pilot.press("d", "m", *demo_id(9), "tab", *"Chen Yi", "enter")
            await wait_for(pilot, lambda: "leaving" in text_of(pilot, "#verdict-who"))
            assert verdict_word(pilot) == "PASS"

    run(scenario, context)  # closing the context stops the player and kills what it started
    assert [r["direction"] for r in entries(config)] == ["in", "out"]
