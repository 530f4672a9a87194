"""Stale lists where the keeper looks: a gate cut off from HQ judges by the `[freshness]` rule's two ages (a
warning past `lists_max_age_hours`, then `stale_lists` past `stale_lists_after_hours`), and its gate screen says
so itself. A real HQ publishes the policy and the lists; time comes from the clocks the gate and kiosk take."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from textual.pilot import Pilot
from tests.functional.ui_support import Recorder, open_context, recorded_app, text_of, wait_for
from tests.functional.ui_support import run as run_app
from tests.sync_testkit import (  # noqa: F401
    Gate,
    MakeGate,
    RunningHq,
    hq_db_url,
    issuer_keys,
    make_gate,
    signing_key_file,
    start_hq,
)

from kiosk.gate import open_gate
from kiosk.rules_in_force import lists_confirmed_at
from sync.core.codes.base import Colour
from sync.core.codes.keys import DISTRICT_KEY_FILE, load_issuer_key
from sync.core.codes.pgc import issue_code
from sync.core.identity import load_district_key, subject_hash
from sync.core.policy import Decision, Direction, FreshnessRule, PolicyError, read_policy
from sync.hq.cli import main as hq_main

RESIDENT = "110101199001010031"


@pytest.fixture
def keyed_hq(hq_db_url: str, signing_key_file: Path, issuer_keys: Path) -> Iterator[RunningHq]:
    yield from start_hq(hq_db_url, signing_key_file, district_key_file=issuer_keys / DISTRICT_KEY_FILE)


def _hq(hq: RunningHq, *args: str) -> None:
    result = CliRunner().invoke(hq_main, [*args, "--db", hq.settings.db])
    assert result.exit_code == 0, result.output


def _cut_off_gate(hq: RunningHq, make_gate: MakeGate, keys: Path, tmp_path: Path, stale_lists: str) -> tuple[Gate, datetime]:
    """An enrolled gate that synced HQ's lists and a policy whose `stale_lists` is given, then heard no more from
    HQ; when HQ last confirmed its lists."""
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[freshness]\nlists_max_age_hours = 24\nstale_lists_after_hours = 72\nstale_lists = "{stale_lists}"\n')
    _hq(hq, "policy", "set", str(policy))
    _hq(hq, "trust", "add", str(keys))
    gate = make_gate(hq, "north-gate")
    roster = tmp_path / "roster.csv"
    roster.write_text(f"id_number,name,unit\n{RESIDENT},Li Si,1-101\n")
    _hq(hq, "roster", "load", "north-gate", str(roster), "--district-key", str(keys / DISTRICT_KEY_FILE))
    assert gate.sync().last_error is None
    with gate.store() as store:
        checked = lists_confirmed_at(store)
    assert checked is not None
    return gate, checked


def _code(keys: Path, at: datetime) -> str:
    return issue_code(
        load_issuer_key(keys), issuer="district-hq",
        subject=subject_hash(load_district_key(keys / DISTRICT_KEY_FILE), RESIDENT), name="L* S*", colour=Colour.GREEN,
        issued_at=at - timedelta(minutes=1), expires_at=at + timedelta(days=30),
    )


def test_a_gate_cut_off_holds_everyone_entering_past_the_second_age(
    keyed_hq: RunningHq, make_gate: MakeGate, issuer_keys: Path, tmp_path: Path
) -> None:
    gate, checked = _cut_off_gate(keyed_hq, make_gate, issuer_keys, tmp_path, "hold")
    judge = open_gate(gate.config)
    try:
        def judged(hours: float, direction: Direction = Direction.IN) -> Any:
            at = checked + timedelta(hours=hours)
            return judge.assess_code(_code(issuer_keys, at), direction=direction, now=at).verdict

        fresh, stale, cut_off, leaving = judged(1), judged(30), judged(80), judged(80, Direction.OUT)
    finally:
        assert judge.store is not None
        judge.store.close()
    assert fresh.decision is Decision.PASS and fresh.warnings == ()
    assert stale.decision is Decision.PASS
    assert stale.warnings == ("red/yellow list is 30 h old (freshness.lists_max_age_hours: 24 h)",)
    assert cut_off.decision is Decision.HOLD
    assert cut_off.reasons == ("red/yellow list is 80 h old (freshness.stale_lists_after_hours: 72 h)",)
    assert leaving.decision is Decision.PASS  # what decides who comes in holds nobody going out


def test_the_second_age_is_never_the_shorter_and_older_policies_stay_valid() -> None:
    with pytest.raises(PolicyError, match="stale_lists_after_hours .12. must be at least lists_max_age_hours .24."):
        read_policy({"freshness": {"stale_lists_after_hours": 12}})
    with pytest.raises(PolicyError, match="stale_lists"):
        read_policy({"freshness": {"stale_lists": "ignore"}})
    # A policy written before the second age existed, with a first age past its default, is read as it was.
    older = read_policy({"freshness": {"lists_max_age_hours": 100}}).policy.section(FreshnessRule)
    assert older.stale_lists_after_hours == 100 and older.lists_decision(timedelta(hours=200)) is Decision.PASS


def test_the_gate_screen_itself_says_the_lists_are_out_of_date(
    keyed_hq: RunningHq, make_gate: MakeGate, issuer_keys: Path, tmp_path: Path
) -> None:
    gate, checked = _cut_off_gate(keyed_hq, make_gate, issuer_keys, tmp_path, "refuse")
    camera = tmp_path / "camera"
    camera.mkdir()
    config = gate.config.model_copy(update={"source": str(camera)})
    clock = {"now": checked + timedelta(hours=2)}
    context = open_context(config, clock=lambda: clock["now"], sync=None, status_refresh_seconds=0.1)
    recorder = Recorder()

    async def scenario() -> None:
        async with recorded_app(context, recorder).run_test(message_hook=recorder) as pilot:
            await wait_for(pilot, lambda: _bar(pilot) == "")
            clock["now"] = checked + timedelta(hours=30)
            await wait_for(pilot, lambda: "OUT OF DATE: red/yellow list, roster 30 h old" in _bar(pilot))
            assert "check the network or call the district" in _bar(pilot)
            clock["now"] = checked + timedelta(hours=80)
            await wait_for(pilot, lambda: "everyone entering is REFUSED until the gate syncs" in _bar(pilot))

    run_app(scenario, context)


def _bar(pilot: Pilot[Any]) -> str:
    return text_of(pilot, "#freshness-bar")
