"""Policy changes stay forward compatible, through a real gate and a real HQ (SQLite and PostgreSQL): a policy
with sections or keys a gate does not know (what a newer HQ publishes) no longer stops its bundle; the gate
applies what it knows, takes HQ's lists, keeps the rest and names it (`sync --status`; the settings screen in
tests/functional/test_ui_sync.py). `pocket-hq policy set` names such rules before publishing and asks first.
A bad value in a rule the gate knows still refuses the bundle, as before."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from sqlalchemy import delete, insert
from tests.sync_testkit import MakeGate, RunningHq, hq, hq_db_url, make_gate, signing_key_file  # noqa: F401

from kiosk.cli import main as kiosk_main
from kiosk.codes.keys import create_issuer_keys
from kiosk.config import load_config
from kiosk.gate import policy_in_force
from kiosk.policy import Decision
from sync.hq.cli import main as hq_main
from sync.hq.db import settings
from sync.hq.lists import POLICY_KEY, current_policy
from sync.hq.revisions import DISTRICT, bump
from sync.status import Connection

NEWER = '[colours]\nyellow = "hold"\n[temperature]\nretake_minutes = 5\n[quarantine]\ndays = 14\n'


def _run(command: Any, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(command, list(args), input=stdin)


def _publish_as_a_newer_hq(hq: RunningHq, policy: dict[str, Any]) -> None:
    """Store a policy as an HQ of a later version, which knows more rules than this one, would have stored it."""
    with hq.db.begin() as conn:
        conn.execute(delete(settings).where(settings.c.key == POLICY_KEY))
        conn.execute(insert(settings).values(key=POLICY_KEY, value=json.dumps(policy)))
        bump(conn, DISTRICT)


def _red_list(hq: RunningHq, tmp_path: Path) -> None:
    keys = tmp_path / "hq-keys"
    create_issuer_keys(keys)
    red = tmp_path / "red.csv"
    red.write_text("id_number,colour,note\n110101199001010023,red,close contact\n")
    loaded = _run(hq_main, "colour-list", "load", str(red), "--db", hq.settings.db,
                  "--district-key", str(keys / "district.key"))
    assert loaded.exit_code == 0, loaded.output


def test_policy_set_names_rules_older_gates_will_ignore_and_asks_before_publishing(
    hq: RunningHq, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(NEWER + '[temprature]\nrefuse_at_or_above = 38.0\n')

    declined = _run(hq_main, "policy", "set", str(policy), "--db", hq.settings.db, stdin="n\n")
    published = _run(hq_main, "policy", "set", str(policy), "--yes", "--db", hq.settings.db)

    assert declined.exit_code == 1 and "Publish this policy anyway? [y/N]" in declined.output
    for answer in (declined, published):
        assert "or older do not know these rules and will ignore them" in answer.stderr
        assert "  quarantine\n  temperature.retake_minutes\n  temprature (did you mean temperature?)" in answer.stderr
    assert published.exit_code == 0 and "policy published (bundle version" in published.stdout
    stored = current_policy(hq.db)
    assert stored is not None and stored.data["quarantine"] == {"days": 14}, "published whole, for newer gates"
    assert stored.data["colours"]["yellow"] == "hold" and stored.ignored == (
        "quarantine", "temperature.retake_minutes", "temprature"
    )


def test_a_gate_takes_a_bundle_whose_policy_has_rules_it_does_not_know_and_says_which(
    hq: RunningHq, make_gate: MakeGate, tmp_path: Path
) -> None:
    gate = make_gate(hq, "north-gate")
    _red_list(hq, tmp_path)
    _publish_as_a_newer_hq(hq, {"colours": {"yellow": "hold"}, "temperature": {"retake_minutes": 5},
                                "quarantine": {"days": 14}})

    status = gate.sync()
    shown = _run(kiosk_main, "sync", "--status", "--config", str(gate.config_file))
    as_json = _run(kiosk_main, "sync", "--status", "--json", "--config", str(gate.config_file))

    assert status.connection is Connection.ONLINE, status.last_error
    with gate.store() as store:
        assert [r["colour"] for r in store.rows("colour_list")] == ["red"], "HQ's red list reached the gate"
        assert policy_in_force(load_config(gate.config_file), store).colours.yellow is Decision.HOLD
    assert shown.exit_code == 0
    assert ("HQ's policy has rules this gate's software does not know, not applied: "
            "quarantine, temperature.retake_minutes") in shown.output
    assert json.loads(as_json.output)["policy_ignored"] == ["quarantine", "temperature.retake_minutes"]


def test_a_bad_value_in_a_rule_the_gate_knows_still_refuses_the_bundle(
    hq: RunningHq, make_gate: MakeGate, tmp_path: Path
) -> None:
    gate = make_gate(hq, "north-gate")
    before = gate.sync().bundle_version
    _red_list(hq, tmp_path)
    _publish_as_a_newer_hq(hq, {"temperature": {"refuse_at_or_above": "hot"}, "quarantine": {"days": 14}})

    status = gate.sync()

    assert status.connection is Connection.ERROR and status.bundle_version == before
    assert "temperature.refuse_at_or_above" in (status.last_error or "")
    with gate.store() as store:
        assert store.rows("colour_list") == [], "the lists in force stay until HQ's bundle can be used whole"
