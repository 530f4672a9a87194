"""`pocket-kiosk --demo` works the field flows by itself (`kiosk.ui.screens.demo_tour`): the real kiosk on the
demo's own data and frames (looping, as the demo plays them), driven by nothing but the tour; every entry is
read back from the real gate database."""

from __future__ import annotations

import json
from pathlib import Path

from kiosk.demo import demo_config, manifest, prepare_demo
from kiosk.ui.screens.gate import GateScreen
from tests.functional.ui_support import KeyClock, Recorder, entries, open_context, recorded_app, run, wait_for


def test_the_demo_adds_a_companion_reads_an_id_card_and_lets_the_courier_out_through_a_scanner(tmp_path: Path) -> None:
    config = demo_config(tmp_path / "demo.db")
    prepare_demo(config)
    context = open_context(
        config, demo=True, demo_tour=True, loop_source=True, frame_interval=1.0, key_clock=KeyClock(KeyClock.SCANNER)
    )

    def kinds() -> list[tuple[str, str, str, str]]:
        return [
            (row["code_type"], row["direction"], row["verdict"], json.loads(row["details"]).get("source", ""))
            for row in entries(config)
        ]

    def toured() -> bool:
        seen = kinds()
        return (
            ("companion", "in", "pass", "") in seen
            and ("manual", "in", "pass", "") in seen
            and any(k[1:] == ("out", "pass", "scanner") for k in seen)
            and any("never left" in row["reasons"] for row in entries(config))  # the resident's second entry
        )

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test(size=(100, 30)) as pilot:
            # The loop brings each code round every 9 s here: the scanner's read must not fall in the camera's
            # repeat window of the same code (a real scanner pressed twice is a repeat, rightly ignored).
            gate = next(s for s in pilot.app.screen_stack if isinstance(s, GateScreen))
            gate.feed.loop.debouncer.window = 0
            try:
                await wait_for(pilot, toured, 120)
            except AssertionError as exc:
                notes = [str(n.message) for n in pilot.app._notifications]
                raise AssertionError(f"the tour did not finish; logged: {kinds()[:12]}; notes: {notes}") from exc

    run(scenario, context)
    rows = entries(config)
    companion = next(r for r in rows if r["code_type"] == "companion")
    came_with = next(r for r in rows if r["id"] == json.loads(companion["details"])["companion_of"])
    assert (came_with["code_type"], came_with["verdict"], came_with["direction"]) == ("PGC1", "pass", "in")
    card = next(r for r in rows if r["code_type"] == "manual")
    assert card["name"] == "陈*" and "resident" in card["reasons"]
    scanned = next(r for r in rows if json.loads(r["details"]).get("source") == "scanner")
    assert (scanned["direction"], scanned["verdict"]) == ("out", "pass")
    assert manifest()["id_card"]["file"].startswith("09")
