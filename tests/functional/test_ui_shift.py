"""A keeper's shift through the real app: sign-in with a PIN, the log and its export, settings, the handover."""

from __future__ import annotations

import csv
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from kiosk.demo.generate import demo_id
from kiosk.operators import OperatorBook
from kiosk.store import GateStore
from kiosk.trust_store import import_document
from kiosk.ui.screens.gate import GateScreen
from kiosk.ui.screens.handover import HandoverScreen
from kiosk.ui.screens.log import LogScreen
from kiosk.ui.screens.settings import SettingsScreen
from kiosk.ui.screens.signin import SignInScreen
from kiosk.uplink.state import SyncState
from tests.functional.ui_support import (
    KEEPER,
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


async def manual_resident(pilot: Pilot[Any], name: str = "Chen Yi") -> None:
    before = pilot.app.screen.tally.attempts
    await pilot.press("m", *demo_id(9), "tab", *name, "enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, GateScreen) and pilot.app.screen.tally.attempts > before)


async def open_log(pilot: Pilot[Any], rows: int) -> DataTable[Any]:
    """Open the log from the gate screen and wait until its table lists `rows` entries."""
    await pilot.press("l")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, LogScreen))
    table = pilot.app.screen.query_one(DataTable)
    await wait_for(pilot, lambda: table.row_count == rows)
    return table


def shown_lines(table: DataTable[Any]) -> list[str]:
    """The table's lines as the screen draws them (markup interpreted, if a cell were ever parsed as markup)."""
    return [table.render_line(y).text for y in range(table.size.height)]


def name_column(table: DataTable[Any]) -> str:
    """The Name column's text as drawn, its wrapped lines joined (a long name wraps within its column)."""
    header, *lines = shown_lines(table)
    start, end = header.index("Name"), header.index("Verdict")
    return "".join(line[start:end].strip() for line in lines)


def exported(tmp_path: Path, pattern: str) -> Path:
    """The one file written to the exports folder whose name matches `pattern`."""
    (export,) = (tmp_path / "exports").glob(pattern)
    return export


def test_sign_in_needs_the_right_pin_and_every_entry_carries_the_operator(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    with OperatorBook(config.database) as book:
        book.add(KEEPER.id, KEEPER.name, "4821")
    context = open_context(config, signed_in=None)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test() as pilot:
            assert isinstance(pilot.app.screen, SignInScreen)
            await pilot.press(*"li01", "enter", *"1111", "enter")
            await wait_for(pilot, lambda: "wrong PIN" in text_of(pilot, "#signin-error"))
            assert isinstance(pilot.app.screen, SignInScreen)
            await pilot.press(*"4821", "enter")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, GateScreen))
            assert "Li Ming (li01)" in text_of(pilot, "#who-is-on")
            await manual_resident(pilot)
            # Sign out: the handover shows the shift, then the sign-in screen comes back.
            await pilot.press("o")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, HandoverScreen))
            summary = text_of(pilot, "#handover-summary")
            assert "Li Ming (li01)" in summary and re.search(r"^attempts +1$", summary, re.M)
            await pilot.click("#export")
            await wait_for(pilot, lambda: "written to" in text_of(pilot, "#handover-note"))
            await pilot.click("#sign-out")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, SignInScreen))

    run(scenario, context)
    assert [row["operator"] for row in entries(config)] == ["li01"]
    shifts = sqlite3.connect(config.database).execute("SELECT operator, ended_at FROM shifts").fetchall()
    assert len(shifts) == 1 and shifts[0][0] == "li01" and shifts[0][1] is not None
    export = exported(tmp_path, "handover-north-gate-li01-*.csv")
    assert dict(csv.reader(export.open(encoding="utf-8-sig")))["attempts"] == "1"


def test_sign_in_locks_after_five_wrong_pins(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    with OperatorBook(config.database) as book:
        book.add(KEEPER.id, KEEPER.name, "4821")
    context = open_context(config, signed_in=None)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test() as pilot:
            await pilot.press(*"li01", "enter")
            for _ in range(5):
                await pilot.press(*"0000", "enter")
                await wait_for(pilot, lambda: "Checking" not in text_of(pilot, "#signin-error"))
            assert "locked" in text_of(pilot, "#signin-error")
            await pilot.press(*"4821", "enter")
            assert "try again in" in text_of(pilot, "#signin-error")
            assert isinstance(pilot.app.screen, SignInScreen)

    run(scenario, context)


def test_with_no_operators_the_sign_in_screen_says_how_to_add_one(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    context = open_context(config, signed_in=None)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test() as pilot:
            assert "pocket-kiosk operators add" in text_of(pilot, "#signin-hint")

    run(scenario, context)


def test_the_log_lists_entries_searches_by_masked_name_and_exports_a_range(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    context = open_context(config)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test(size=(100, 30)) as pilot:
            await manual_resident(pilot, "Chen Yi")
            await pilot.press("v")
            for value in ("Zhou Ba", "13812345678", "3-2-501", "[b]visit"):
                await pilot.press(*value, "tab")
            await pilot.click("#submit")
            await wait_for(pilot, lambda: verdict_word(pilot) == "REFUSED")
            table = await open_log(pilot, rows=2)
            search = pilot.app.screen.query_one("#search", Input)
            search.focus()
            await pilot.press(*"z***")
            await wait_for(pilot, lambda: table.row_count == 1)
            assert str(table.get_row_at(0)[2]) == "Z*** B*"
            await pilot.click("#export")
            await wait_for(pilot, lambda: "2 entries written" in text_of(pilot, "#export-note"))
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, GateScreen))

    run(scenario, context)
    export = exported(tmp_path, "entries-north-gate-*.csv")
    rows = list(csv.DictReader(export.open(encoding="utf-8-sig")))
    assert [r["code_type"] for r in rows] == ["manual", "visitor"]


def test_the_log_finds_a_name_as_the_keeper_knows_it_and_exports_from_the_search_with_ctrl_e(
    tmp_path: Path, kit: Kit
) -> None:
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    context = open_context(config)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test(size=(100, 30)) as pilot:
            await manual_resident(pilot, "Chen Yi")
            await manual_resident(pilot, "Zhou Ba")
            table = await open_log(pilot, rows=2)
            pilot.app.screen.query_one("#search", Input).focus()
            await pilot.press(*"Zhou Ba")
            await wait_for(pilot, lambda: table.row_count == 1)
            assert str(table.get_row_at(0)[2]) == "Z*** B*"
            footer = " ".join(str(k.render()) for k in pilot.app.screen.query("FooterKey"))
            assert "Export CSV" in footer, "the footer keeps the log's keys while the search has the focus"
            await pilot.press("ctrl+e")
            await wait_for(pilot, lambda: "2 entries written" in text_of(pilot, "#export-note"))

    run(scenario, context)


def test_settings_at_80x24_scroll_with_the_arrow_keys_at_once(tmp_path: Path, kit: Kit) -> None:
    """Settings are longer than a small terminal: the table has the focus as the screen opens, so the arrow keys
    move through it (and bring the rows below the fold into view) without a Tab first."""
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    with GateStore(config.database, config.gate_id) as store:  # out of date lists: a warning above the table
        SyncState(store).confirm_bundle(datetime.now(UTC) - timedelta(days=2, hours=1))
    context = open_context(config)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test(size=(80, 24)) as pilot:
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, SettingsScreen))
            table = pilot.app.screen.query_one(DataTable)
            await pilot.pause()
            assert table.row_count > table.size.height, "the settings are longer than the screen"
            assert pilot.app.focused is table
            for _ in range(table.row_count):
                await pilot.press("down")
            await wait_for(pilot, lambda: table.cursor_row == table.row_count - 1 and table.scroll_y > 0)

    run(scenario, context)


def test_settings_show_the_rules_and_warn_about_stale_lists(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    with GateStore(config.database, config.gate_id) as store:  # as if HQ had last been heard from two days ago
        SyncState(store).confirm_bundle(datetime.now(UTC) - timedelta(days=2, hours=1))
    context = open_context(config)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test(size=(120, 40)) as pilot:
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, SettingsScreen))
            table = pilot.app.screen.query_one(DataTable)
            rows = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[1]) for i in range(table.row_count)}
            assert rows["gate id"] == "north-gate"
            assert rows["rule: code colours"] == "green pass, yellow hold, red refuse"
            assert rows["red/yellow list, roster age"] == "OUT OF DATE: 2 days old (limit 24 h)"
            assert rows["issuer keys age"] == "from the trust folder only: files have no age to judge"
            assert rows["residents on the roster"] == "7"
            assert rows["sync"].startswith("not enrolled")

    run(scenario, context)


def test_the_command_palette_lists_the_gate_keys(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    context = open_context(config)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test() as pilot:
            commands = [c.title for c in pilot.app.get_system_commands(pilot.app.screen)]
            assert "In/Out (key d)" in commands and "Manual (key m)" in commands and "Quit (key q)" in commands
            assert [c for c in commands if "Quit" in c] == ["Quit (key q)"], "Quit is listed once"
            await pilot.press("ctrl+p")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, CommandPalette))
            await pilot.press(*"In/Out", "enter")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, GateScreen))
            await wait_for(pilot, lambda: "LEAVING" in text_of(pilot, "#direction"))

    run(scenario, context)


def test_the_handover_counts_refusals_by_reason_and_exports_them(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, camera_folder(tmp_path, kit, "03", "09"))  # a red code, a hostile name
    context = open_context(config)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: pilot.app.screen.tally.attempts == 2)
            await pilot.press("t", *"38.5", "enter")  # the last one's temperature: re-judged, refused
            await wait_for(pilot, lambda: pilot.app.screen.tally.refused == 2)
            await pilot.press("o")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, HandoverScreen))
            summary = text_of(pilot, "#handover-summary")
            assert re.search(r"^refused +2$", summary, re.M) and "Refused or held, by reason:" in summary
            assert "    1  red code" in summary and "    1  temperature too high" in summary
            await pilot.press("e")
            await wait_for(pilot, lambda: "written to" in text_of(pilot, "#handover-note"))
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, GateScreen))

    run(scenario, context)
    export = exported(tmp_path, "handover-north-gate-li01-*.csv")
    items = dict(csv.reader(export.open(encoding="utf-8-sig")))
    assert items["refused"] == "2" and items["let in"] == "0"
    assert items["refused or held: red code"] == "1" and items["refused or held: temperature too high"] == "1"


def test_the_log_searches_by_time_shows_names_literally_and_exports_only_the_range(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, camera_folder(tmp_path, kit, "09"))  # a name of markup and controls
    scanned_at = datetime.now(UTC).replace(second=0, microsecond=0)
    later = scanned_at + timedelta(hours=3)
    clock = [scanned_at]
    context = open_context(config, clock=lambda: clock[0])

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: pilot.app.screen.tally.attempts == 1)
            clock[0] = later  # three hours on, someone without a phone
            await manual_resident(pilot, "Chen Yi")
            table = await open_log(pilot, rows=2)
            assert "[boldred]Evil[/]\\x1b" in name_column(table).replace(" ", "")  # drawn literally, not as markup
            pilot.app.screen.query_one("#search", Input).focus()
            await pilot.press(*scanned_at.astimezone().strftime("%H:%M"))
            await wait_for(pilot, lambda: table.row_count == 1)
            assert "Evil" in str(table.get_row_at(0)[2]) and str(table.get_row_at(0)[3]) == "PASS"  # the code scanned then
            start = pilot.app.screen.query_one("#export-from", Input)
            start.value = (later - timedelta(hours=1)).astimezone().strftime("%Y-%m-%d %H:%M")
            await pilot.click("#export")
            await wait_for(pilot, lambda: "1 entry written" in text_of(pilot, "#export-note"))

    run(scenario, context)
    export = exported(tmp_path, "entries-north-gate-*.csv")
    assert [r["code_type"] for r in csv.DictReader(export.open(encoding="utf-8-sig"))] == ["manual"]


def test_at_80x24_the_settings_put_what_is_out_of_date_first(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    with GateStore(config.database, config.gate_id) as store:  # keys last confirmed ten days ago, never HQ
        key_file = next((kit.folder / "trust").glob("*.pub.pem"))
        import_document(store, key_file.read_bytes(), name=key_file.name, now=datetime.now(UTC) - timedelta(days=10))
    context = open_context(config)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test(size=(80, 24)) as pilot:
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, SettingsScreen))
            notice = pilot.app.screen.query_one("#settings-warnings")
            table = pilot.app.screen.query_one(DataTable)
            await wait_for(pilot, lambda: notice.region.height > 0 and table.region.height > 0)  # laid out
            text = text_of(pilot, "#settings-warnings")
            assert "issuer keys age: OUT OF DATE: 10 days old" in text
            assert "red/yellow list, roster age: OUT OF DATE" in text
            assert notice.display and notice.region.bottom <= 23  # on screen, above the footer
            assert notice.region.bottom <= table.region.y  # and above the table, which is longer than the screen

    run(scenario, context)
