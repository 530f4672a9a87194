"""The kiosk and HQ together: the real app (run_test) on a folder of issued codes, enrolled with a real HQ on
127.0.0.1, syncing in its background worker. Entries reach HQ, HQ's red list, keys and policy take effect in
the running app, and the sync indicator follows HQ going away and coming back. The indicator and the settings
screen read the one sync record in the gate database, so a `pocket-kiosk sync --once` shows there too."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from textual.pilot import Pilot
from textual.widgets import DataTable

from sync.core.codes import Colour
from sync.core.codes.keys import DISTRICT_KEY_FILE, create_issuer_keys
from kiosk.config import KioskConfig, load_config
from kiosk.demo.generate import Person, demo_id, issue_frames
from sync.core.policy import Decision
from kiosk.ui.messages import SyncStatusChanged, VerdictReady
from kiosk.ui.screens.gate import GateScreen
from kiosk.ui.screens.settings import SettingsScreen
from kiosk.cli import main as kiosk_main
from kiosk.uplink.enrollment import enroll
from sync.hq.app import create_app
from sync.hq.cli import main as hq_main
from sync.hq.db import HqDatabase
from sync.hq.server import ServerThread
from sync.hq.settings import HqSettings
from tests.functional.ui_support import (
    Camera,
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
from tests.sync_testkit import RunningHq, signing_key_file  # noqa: F401  (fixture)

GATE = "north-gate"
DEBOUNCE = 2.0
"""Seconds a code must be out of view to count again (the camera shows a blank frame for longer). Not less:
on a loaded machine the camera loop can go more than half a second between two reads of a code still in view."""


@dataclass
class Hq:
    """A real HQ on SQLite, on 127.0.0.1, that the test can stop and start again on the same port."""

    settings: HqSettings
    running: RunningHq

    @property
    def url(self) -> str:
        return self.running.url

    def publish(self, *args: str) -> int:
        """Run a `pocket-hq` command against this HQ's database; the bundle version it made."""
        result = CliRunner().invoke(hq_main, [*args, "--db", self.settings.db])
        assert result.exit_code == 0, result.output
        return int(re.findall(r"bundle version (\d+)", result.output)[-1])

    def stop(self) -> None:
        self.running.server.stop()

    def start_again(self) -> None:
        port = self.running.server.port
        self.running.server = ServerThread(create_app(self.settings), port=port).start()


@pytest.fixture
def hq(tmp_path: Path, signing_key_file: Path) -> Iterator[Hq]:  # noqa: F811
    settings = HqSettings(db=str(tmp_path / "hq.db"), signing_key_file=signing_key_file)
    server = ServerThread(create_app(settings)).start()
    running = RunningHq(settings, server, HqDatabase(settings.db))
    try:
        yield Hq(settings, running)
    finally:
        running.server.stop()
        running.db.dispose()


def enrolled_gate(tmp_path: Path, kit: Kit, hq: Hq, camera: Path) -> tuple[Path, KioskConfig]:
    """A gate folder set up as an installer would: kiosk.toml on the kit's keys and policy, enrolled with
    HQ through the real enrolment path, HQ holding the gate's roster."""
    token = hq.running.add_gate(GATE)
    hq.publish("roster", "load", GATE, str(kit.folder / "roster.csv"), "--district-key", str(kit.folder / DISTRICT_KEY_FILE))
    config_file = tmp_path / "gate" / "kiosk.toml"
    config_file.parent.mkdir()
    values = {
        "gate_id": GATE,
        "database": "gate.db",
        "trust_dir": str(kit.folder / "trust"),
        "district_key_file": str(kit.folder / DISTRICT_KEY_FILE),
        "policy_file": str(kit.folder / "policy.toml"),
        "source": str(camera),
        "debounce_seconds": DEBOUNCE,
        "sync_interval_seconds": 1,
        "sync_retry_seconds": 0,
        "sync_timeout_seconds": 5,
    }
    config_file.write_text("".join(f"{k} = {v!r}\n" if isinstance(v, str) else f"{k} = {v}\n" for k, v in values.items()))
    enroll(config_file, hq.url, token)
    return config_file, load_config(config_file)


async def present(pilot: Pilot[Any], camera: Camera, recorder: Recorder, image: Path) -> Any:
    """Someone walks up and shows a code: a blank frame first (so the last code counts again), then the code;
    the committed entry's outcome."""
    seen = len(recorder.of(VerdictReady))
    camera.show(None)
    await pilot.pause(DEBOUNCE + 0.4)  # the scanner's debounce window (DEBOUNCE, above): out of view this long
    camera.show(image)
    await wait_for(pilot, lambda: len(recorder.of(VerdictReady)) > seen)
    return recorder.of(VerdictReady)[-1].outcome


def sync_line(pilot: Pilot[Any]) -> str:
    return text_of(pilot, "#sync-status")


def settings_rows(pilot: Pilot[Any]) -> dict[str, str]:
    table = pilot.app.screen.query_one(DataTable)
    return {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[1]) for i in range(table.row_count)}


def new_issuer_code(tmp_path: Path, kit: Kit) -> tuple[Path, Path]:
    """A keys folder for a second issuer (same district key, so subjects match) and a green code it signed for
    a resident; the gate does not trust that issuer until HQ publishes its key."""
    keys = tmp_path / "new-issuer"
    create_issuer_keys(keys)
    shutil.copy(kit.folder / DISTRICT_KEY_FILE, keys / DISTRICT_KEY_FILE)
    person = Person("new-issuer.png", "green code, new issuer", "Li Si", 2, Colour.GREEN, "pass", "resident")
    issue_frames(keys, tmp_path / "new-frames", (person,))
    return keys, tmp_path / "new-frames" / person.file


def test_the_kiosk_syncs_with_hq_takes_its_lists_without_a_restart_and_shows_offline(
    tmp_path: Path, kit: Kit, hq: Hq
) -> None:
    camera = Camera(tmp_path / "camera")
    _, config = enrolled_gate(tmp_path, kit, hq, camera.frame.parent)
    new_keys, new_code = new_issuer_code(tmp_path, kit)
    resident = kit.frame("01")  # Zhang San, green code, on the roster
    red_list = tmp_path / "red.csv"
    red_list.write_text(f"id_number,colour,note\n{demo_id(1)},red,close contact\n")
    strict = tmp_path / "strict-policy.toml"
    strict.write_text('[colours]\nyellow = "refuse"\n')
    context = open_context(config, loop_source=True, frame_interval=0.1)
    assert context.sync is not None  # enrolled: the app runs the real SyncService
    recorder = Recorder()

    async def scenario() -> None:
        async with recorded_app(context, recorder).run_test(size=(120, 36), message_hook=recorder) as pilot:
            await wait_for(pilot, lambda: "online · 0 waiting · synced" in sync_line(pilot))

            passed = await present(pilot, camera, recorder, resident)
            assert passed.assessment.verdict.decision is Decision.PASS
            unknown = await present(pilot, camera, recorder, new_code)
            assert unknown.assessment.verdict.decision is Decision.REFUSE
            assert "unknown issuer" in " ".join(unknown.assessment.verdict.reasons)
            await wait_for(pilot, lambda: hq.running.entry_count(GATE) == 2)
            await wait_for(pilot, lambda: "online · 0 waiting" in sync_line(pilot))

            hq.publish("colour-list", "load", str(red_list), "--district-key", str(kit.folder / DISTRICT_KEY_FILE))
            hq.publish("trust", "add", str(new_keys))
            version = hq.publish("policy", "set", str(strict))
            await wait_for(
                pilot,
                lambda: any(
                    m.status.bundle_changed and m.status.bundle_version == version
                    for m in recorder.of(SyncStatusChanged)
                ),
            )

            refused = await present(pilot, camera, recorder, resident)
            assert refused.assessment.verdict.decision is Decision.REFUSE
            assert "on HQ's red list (code shows green)" in refused.assessment.verdict.reasons
            assert verdict_word(pilot) == "REFUSED" and "red list" in text_of(pilot, "#verdict-reasons")
            trusted = await present(pilot, camera, recorder, new_code)
            assert trusted.assessment.verdict.decision is Decision.PASS
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, SettingsScreen))
            rows = settings_rows(pilot)
            assert rows["rule: code colours"] == "green pass, yellow refuse, red refuse"
            assert re.match(rf"\d+ s old \(version {version}", rows["red/yellow list, roster age"])
            assert re.match(r"\d+ s old", rows["issuer keys age"])
            assert rows["trusted issuer keys"].endswith("/trust and the gate database (HQ, trust import)")
            assert rows["sync"].startswith("online · ") and rows["HQ"] == hq.url
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, GateScreen))
            await wait_for(pilot, lambda: hq.running.entry_count(GATE) == 4)

            hq.stop()
            await pilot.press("d")  # they leave: the new code's holder came in above ([presence] holds a second entry)
            await present(pilot, camera, recorder, resident)
            await present(pilot, camera, recorder, new_code)
            await wait_for(pilot, lambda: "offline · 2 waiting" in sync_line(pilot))
            assert pilot.app.screen.query_one("#sync-status").has_class("-problem")

            hq.start_again()
            await wait_for(pilot, lambda: "online · 0 waiting" in sync_line(pilot))
            assert not pilot.app.screen.query_one("#sync-status").has_class("-problem")

    run(scenario, context)
    logged = entries(config)
    assert [e["id"] for e in logged] == hq.running.entry_ids(GATE)
    assert [e["verdict"] for e in logged] == ["pass", "refuse", "refuse", "pass", "refuse", "pass"]
    assert hq.running.alert_kinds(GATE) == []


def test_a_sync_from_the_command_line_shows_on_the_running_kiosk(tmp_path: Path, kit: Kit, hq: Hq) -> None:
    """One record of sync: the kiosk (here without its own worker) sees what `pocket-kiosk sync --once` did, at
    its next periodic read of the record (its real timer, made short here)."""
    camera = Camera(tmp_path / "camera")
    config_file, config = enrolled_gate(tmp_path, kit, hq, camera.frame.parent)
    context = open_context(config, sync=None, status_refresh_seconds=0.3)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test(size=(120, 36)) as pilot:
            await pilot.press("m", *demo_id(9), "tab", *"Chen Yi", "enter")  # no roster before the first sync
            await wait_for(pilot, lambda: verdict_word(pilot) == "REFUSED")
            await wait_for(pilot, lambda: "not tried yet · 1 waiting · never synced" in sync_line(pilot))
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, SettingsScreen))
            assert settings_rows(pilot)["red/yellow list, roster age"].startswith("OUT OF DATE: never updated from HQ")
            await pilot.press("escape")

            result = CliRunner().invoke(kiosk_main, ["sync", "--once", "--config", str(config_file)])
            assert result.exit_code == 0, result.output

            await wait_for(pilot, lambda: "online · 0 waiting · synced" in sync_line(pilot))
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, SettingsScreen))
            rows = settings_rows(pilot)
            assert re.match(r"\d+ s old \(version ", rows["red/yellow list, roster age"])
            assert rows["sync"].startswith("online · 0 waiting")

    run(scenario, context)
    assert hq.running.entry_count(GATE) == 1


def test_before_enrolment_the_indicator_says_not_enrolled_and_counts_every_entry_waiting(tmp_path: Path, kit: Kit) -> None:
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    context = open_context(config)
    assert context.sync is None

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test() as pilot:
            await wait_for(pilot, lambda: "not enrolled · 0 waiting" in sync_line(pilot))
            await pilot.press("m", *demo_id(9), "tab", *"Chen Yi", "enter")
            await wait_for(pilot, lambda: verdict_word(pilot) == "PASS")
            await wait_for(pilot, lambda: "not enrolled · 1 waiting" in sync_line(pilot))

    run(scenario, context)


def test_rules_of_a_newer_policy_are_named_on_the_settings_screen_and_the_lists_still_arrive(
    tmp_path: Path, kit: Kit, hq: Hq
) -> None:
    camera = Camera(tmp_path / "camera")
    config_file, config = enrolled_gate(tmp_path, kit, hq, camera.frame.parent)
    newer = tmp_path / "newer-policy.toml"
    newer.write_text('[colours]\nyellow = "hold"\n[quarantine]\ndays = 14\n')
    hq.publish("policy", "set", str(newer), "--yes")
    result = CliRunner().invoke(kiosk_main, ["sync", "--once", "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    context = open_context(config, sync=None)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test(size=(120, 36)) as pilot:
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, SettingsScreen))
            rows = settings_rows(pilot)
            assert rows["HQ policy not applied"] == (
                "HQ's policy has rules this gate's software does not know, not applied: quarantine"
            )
            assert rows["rule: code colours"].startswith("green pass, yellow hold")
            assert "⚠ HQ policy not applied: HQ's policy has rules" in text_of(pilot, "#settings-warnings")

    run(scenario, context)
