"""The gate as it is really worked, through the real app (issue 12): keyboard-wedge QR scanners (bursts of keys at
scanner speed on every screen, and people typing at their own speed, which must stay typing), a second entry
without leaving, who is out, and companions without a phone.

A scanner types into the terminal: the test hands the app every key of a code at once, as a terminal hands over
one read (`send_keys`), and the key clock says how fast they came (`KeyClock`). The code is a real one, read
from the kit's PNG by the real decoder, and every entry is read back from the real gate database.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
from textual.pilot import Pilot
from textual.widgets import Input, Select

from kiosk.demo.generate import demo_id
from kiosk.operators import OperatorBook
from kiosk.scanner import Scanner
from kiosk.ui.messages import CodeIgnored, VerdictReady
from kiosk.gate import CHILD_WITHOUT_ID
from kiosk.ui.screens.entry_forms import CompanionScreen, ManualEntryScreen
from kiosk.ui.screens.gate import GateScreen
from kiosk.ui.screens.log import LogScreen
from kiosk.ui.screens.signin import SignInScreen
from tests.functional.ui_support import (
    KEEPER,
    KeyClock,
    Kit,
    Recorder,
    entries,
    gate_config,
    kit,  # noqa: F401  (fixture)
    open_context,
    recorded_app,
    run,
    send_keys,
    text_of,
    verdict_word,
    wait_for,
)

NOT_A_CODE = "https://shop.example/q?d=1&s=m&o=v"
"""A shop's QR code: every gate key (d, m, o, q, s, v) is in it, and none may act."""


def code_of(kit: Kit, prefix: str) -> str:
    (text,) = Scanner().scan(cv2.imread(str(kit.frame(prefix)))).texts
    return text


def notes(pilot: Pilot[Any]) -> str:
    return " | ".join(str(n.message) for n in pilot.app._notifications)


def test_a_scanner_burst_is_judged_as_a_scan_anywhere_on_the_gate_screen(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    clock = KeyClock(KeyClock.SCANNER)
    context = open_context(config, key_clock=clock)
    recorder = Recorder()
    green = code_of(kit, "01")

    async def scenario() -> None:
        async with recorded_app(context, recorder).run_test(message_hook=recorder) as pilot:
            send_keys(pilot, green)
            await wait_for(pilot, lambda: verdict_word(pilot) == "PASS")
            assert "read by the QR scanner" in text_of(pilot, "#verdict-note")
            # The temperature field has the focus: the next burst is still a scan, and the field stays empty.
            clock.step = KeyClock.PERSON
            await pilot.press("t")
            await wait_for(pilot, lambda: pilot.app.screen.focused is pilot.app.screen.query_one("#temperature"))
            clock.step = KeyClock.SCANNER
            send_keys(pilot, code_of(kit, "03"))  # a red code
            await wait_for(pilot, lambda: verdict_word(pilot) == "REFUSED")
            assert pilot.app.screen.query_one("#temperature", Input).value == ""
            # A burst that is not a health code: said, not logged, and none of its letters acted as a key.
            send_keys(pilot, NOT_A_CODE)
            await wait_for(pilot, lambda: bool(recorder.of(CodeIgnored)))
            assert isinstance(pilot.app.screen, GateScreen)
            assert pilot.app.screen.session.direction.value == "in"
            assert pilot.app.screen.query_one("#temperature", Input).value == ""

    run(scenario, context)
    rows = entries(config)
    assert [(r["verdict"], json.loads(r["details"])) for r in rows] == [
        ("pass", {"source": "scanner"}),
        ("refuse", {"source": "scanner"}),
    ]
    assert [m.origin for m in recorder.of(VerdictReady)] == ["scanner", "scanner"]


def test_a_burst_while_a_form_is_open_is_held_until_the_keeper_is_back(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    clock = KeyClock(KeyClock.PERSON)
    context = open_context(config, key_clock=clock)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test() as pilot:
            await pilot.press("m", *demo_id(9)[:6])  # typing an ID number, half-way
            await wait_for(pilot, lambda: pilot.app.screen.query_one("#f-id_number", Input).value == demo_id(9)[:6])
            clock.step = KeyClock.SCANNER
            send_keys(pilot, code_of(kit, "01"))
            await wait_for(pilot, lambda: "judged when you are back" in notes(pilot))
            form = pilot.app.screen
            assert isinstance(form, ManualEntryScreen)
            assert form.query_one("#f-id_number", Input).value == demo_id(9)[:6]
            assert form.query_one("#f-name", Input).value == ""
            assert entries(config) == []
            clock.step = KeyClock.PERSON
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, GateScreen) and verdict_word(pilot) == "PASS")
            # The log screen holds a burst too; the scanner's repeat of the same code within the debounce is one scan.
            await pilot.press("l")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, LogScreen))
            clock.step = KeyClock.SCANNER
            send_keys(pilot, code_of(kit, "02"))
            await wait_for(pilot, lambda: notes(pilot).count("judged when you are back") == 2)
            assert len(entries(config)) == 1
            clock.step = KeyClock.PERSON
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, GateScreen) and verdict_word(pilot) == "HOLD")

    run(scenario, context)
    assert [(r["verdict"], json.loads(r["details"])["source"]) for r in entries(config)] == [
        ("pass", "scanner"),
        ("hold", "scanner"),
    ]


def test_typing_stays_typing_and_half_a_code_is_dropped_with_a_message(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    clock = KeyClock(KeyClock.PERSON)
    context = open_context(config, key_clock=clock)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test() as pilot:
            # A person types a whole manual entry, 26 keys ending with Enter: it is typing, however the keys queue.
            await pilot.press("m")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, ManualEntryScreen))
            send_keys(pilot, demo_id(9), then=("tab",))
            send_keys(pilot, "Chen Yi")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, GateScreen) and verdict_word(pilot) == "PASS")
            # Half a code (the scanner stopped without Enter) is reported, typed nowhere, logged never.
            await pilot.press("t")
            clock.step = KeyClock.SCANNER
            send_keys(pilot, code_of(kit, "01")[:40], then=())
            await pilot.pause()
            clock.step = KeyClock.PERSON
            await wait_for(pilot, lambda: "part of a code (40 characters, no end)" in notes(pilot))
            assert pilot.app.screen.query_one("#temperature", Input).value == ""

    run(scenario, context)
    rows = entries(config)
    assert [(r["code_type"], r["verdict"]) for r in rows] == [("manual", "pass")]


def test_sign_in_takes_a_fast_operator_tab_pin_in_the_right_fields_and_judges_no_burst(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    with OperatorBook(config.database) as book:
        book.add(KEEPER.id, KEEPER.name, "1111")
    clock = KeyClock(KeyClock.SCANNER)
    context = open_context(config, signed_in=None, key_clock=clock)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test() as pilot:
            assert isinstance(pilot.app.screen, SignInScreen)
            send_keys(pilot, code_of(kit, "01"))
            await wait_for(pilot, lambda: "Sign in first" in notes(pilot))
            assert pilot.app.screen.query_one("#operator-id", Input).value == ""
            # A keeper (or a password manager) typing fast: every key lands where it was meant to.
            clock.step = KeyClock.PERSON
            send_keys(pilot, "li01", then=("tab",))
            send_keys(pilot, "1111")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, GateScreen))
            assert "Li Ming (li01)" in text_of(pilot, "#who-is-on")

    run(scenario, context)
    assert entries(config) == []


def test_a_second_entry_without_leaving_is_held_and_the_presence_screen_lists_who_is_out(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    clock = KeyClock(KeyClock.SCANNER)
    context = open_context(config, key_clock=clock)
    green = code_of(kit, "01")

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test() as pilot:
            send_keys(pilot, green)
            await wait_for(pilot, lambda: verdict_word(pilot) == "PASS")
            pilot.app.screen.feed.loop.debouncer.window = 0  # a second phone showing the same code, later
            send_keys(pilot, green)
            await wait_for(pilot, lambda: verdict_word(pilot) == "HOLD")
            assert "never left" in text_of(pilot, "#verdict-reasons")
            clock.step = KeyClock.PERSON
            await pilot.press("d")
            clock.step = KeyClock.SCANNER
            send_keys(pilot, green)
            await wait_for(pilot, lambda: verdict_word(pilot) == "PASS" and len(entries(config)) == 3)
            clock.step = KeyClock.PERSON
            await pilot.press("p")
            await wait_for(pilot, lambda: "1 resident out, from 1 household" in text_of(pilot, "#presence-summary"))
            table = pilot.app.screen.query_one("#presence-table")
            assert table.row_count == 1 and "Z**** S**" in str(table.get_row_at(0)[1])

    run(scenario, context)
    assert [(r["direction"], r["verdict"]) for r in entries(config)] == [("in", "pass"), ("in", "hold"), ("out", "pass")]


def test_companions_are_added_after_the_verdict_each_an_entry_linked_to_the_adult(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    context = open_context(config)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test() as pilot:
            await pilot.press("a")  # nobody judged yet: nothing to add to
            await wait_for(pilot, lambda: "right after the verdict" in notes(pilot))
            await pilot.press("m", *demo_id(9), "tab", *"Chen Yi", "enter")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, GateScreen) and verdict_word(pilot) == "PASS")
            await pilot.press("a")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, CompanionScreen))
            assert "C*** Y*" in text_of(pilot, "#f-came_with")
            pilot.app.screen.query_one("#f-doc_type", Select).value = CHILD_WITHOUT_ID
            await pilot.press("tab", *"Chen Xiao", "enter")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, GateScreen) and verdict_word(pilot) == "PASS")
            assert "companion" in text_of(pilot, "#verdict-who")
            assert "Let in 2" in text_of(pilot, "#counters")

    run(scenario, context)
    adult, child = entries(config)
    assert (child["code_type"], child["verdict"], child["subject"]) == ("companion", "pass", None)
    assert json.loads(child["details"]) == {"companion_of": adult["id"], "child_under": "14"}
