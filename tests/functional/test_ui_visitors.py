"""Visitors confirmed by their host (`[access] host_confirmation`), through the real kiosk driven by Pilot: the
visitor form shows the household's phone from the roster (the demo kit's, with its `phone` column), the keeper
ticks "host confirmed by phone", and the entry's details name the keeper who confirmed. Every entry is read back
from the real gate database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Checkbox

from kiosk.config import KioskConfig
from kiosk.ui.screens.entry_forms import VisitorScreen
from kiosk.ui.screens.gate import GateScreen
from tests.functional.ui_support import (
    KEEPER,
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

COURIER_ID = "110101199001010074"
"""The demo kit's courier, who holds an HQ pass."""


def confirming_gate(tmp_path: Path, kit: Kit) -> KioskConfig:
    """The kit's gate with a policy that wants visitors' hosts to confirm."""
    policy = tmp_path / "policy.toml"
    policy.write_text((kit.folder / "policy.toml").read_text() + "\n[access]\nhost_confirmation = true\n")
    return gate_config(tmp_path, kit, tmp_path / "no-camera").model_copy(update={"policy_file": policy})


async def register(pilot: Pilot[Any], household: str, *, confirm: bool, id_number: str = "") -> None:
    """Open the visitor form and type a visit to `household`, ticking the host's confirmation or not."""
    await pilot.press("v")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, VisitorScreen))
    await pilot.press(*"Zhou Ba", "tab", *"138 1234 5678", "tab", *household, "tab")
    if confirm:
        assert pilot.app.screen.focused is pilot.app.screen.query_one("#f-host_confirmed", Checkbox)
        await pilot.press("space")
    await pilot.press("tab", *"family visit")
    if id_number:
        await pilot.press("tab", "tab", *id_number)


def test_a_visitor_passes_once_the_keeper_confirms_with_the_host_whose_phone_the_form_shows(
    tmp_path: Path, kit: Kit
) -> None:
    config = confirming_gate(tmp_path, kit)
    context = open_context(config)
    shown: list[str] = []

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test(size=(100, 40)) as pilot:
            await register(pilot, "9-999", confirm=False)
            shown.append(text_of(pilot, "#f-host_phone"))
            await pilot.click("#submit")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, GateScreen) and verdict_word(pilot) == "REFUSED")
            assert "visit not confirmed by the host" in text_of(pilot, "#verdict-reasons")

            await register(pilot, "1-201", confirm=True)
            shown.append(text_of(pilot, "#f-host_phone"))
            await pilot.click("#submit")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, GateScreen) and verdict_word(pilot) == "PASS")
            assert "visit confirmed by the host by phone" in text_of(pilot, "#verdict-reasons")

            await register(pilot, "2-301", confirm=False, id_number=COURIER_ID)  # an HQ pass works as ever
            await pilot.click("#submit")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, GateScreen) and len(entries(config)) == 3)

    run(scenario, context)
    assert shown[0] == "no phone on the roster for 9-999"
    assert shown[1].startswith("13800000001")
    unconfirmed, confirmed, courier = entries(config)
    assert (unconfirmed["verdict"], confirmed["verdict"], courier["verdict"]) == ("refuse", "pass", "pass")
    assert "host_confirmed_by" not in json.loads(unconfirmed["details"])
    assert json.loads(confirmed["details"])["host_confirmed_by"] == KEEPER.id
    assert "courier pass until" in courier["reasons"]


def test_without_the_policy_the_form_asks_nothing_of_the_host(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    context = open_context(config)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test(size=(100, 40)) as pilot:
            await pilot.press("v")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, VisitorScreen))
            assert not pilot.app.screen.query("#f-host_phone") and not pilot.app.screen.query("#f-host_confirmed")

    run(scenario, context)
