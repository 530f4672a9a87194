"""The rules in force have one owner: it reads the policy and keys from the gate database, puts new ones in force
when another connection (a sync from another terminal, a `trust import`) changed them, tells the gate, and judges
the keys' age by the policy in force, HQ's, not the configuration file's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from kiosk.cli import main as kiosk_main
from kiosk.config import KioskConfig
from kiosk.gate import open_gate
from kiosk.rules_in_force import HQ_POLICY_META, Rules, RulesInForce, hq_policy_text, keep_hq_policy
from kiosk.store import GateStore
from kiosk.trust_store import import_document
from sync.core.codes.keys import TRUST_SUBDIR, create_issuer_keys
from sync.core.policy import ColourRules, Decision, FreshnessRule, PolicyError

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture
def config(tmp_path: Path) -> KioskConfig:
    return KioskConfig(gate_id="north-gate", database=tmp_path / "gate.db")


@pytest.fixture
def store(config: KioskConfig) -> Iterator[GateStore]:
    with GateStore(config.database, config.gate_id) as opened:
        yield opened


def _issuer_key(folder: Path) -> bytes:
    create_issuer_keys(folder)
    return next((folder / TRUST_SUBDIR).glob("*.pub.pem")).read_bytes()


def test_a_change_made_by_another_connection_is_put_in_force_and_the_gate_told(
    config: KioskConfig, store: GateStore, tmp_path: Path
) -> None:
    gate = open_gate(config, db=config.database)
    assert gate.in_force is not None and len(gate.trust) == 0
    assert gate.policy.section(ColourRules).yellow is Decision.REFUSE
    told: list[Rules] = []
    gate.in_force.watch(told.append)

    assert gate.in_force.refresh() is False  # nothing changed
    import_document(store, _issuer_key(tmp_path / "keys"), name="issuer.pub.pem", now=NOW)
    keep_hq_policy(store, hq_policy_text({"colours": {"yellow": "hold"}, "quarantine": {"days": 7}}))

    assert gate.in_force.refresh() is True
    assert len(told) == 1 and told[0] is gate.rules
    assert len(gate.trust) == 1 and gate.trust.updated_at == NOW
    assert gate.policy.section(ColourRules).yellow is Decision.HOLD
    assert gate.rules.ignored == ("quarantine",)
    assert gate.in_force.refresh() is False
    gate.store.close()  # type: ignore[union-attr]


def test_a_confirmation_alone_renews_the_keys_age_without_new_rules(
    config: KioskConfig, store: GateStore, tmp_path: Path
) -> None:
    import_document(store, _issuer_key(tmp_path / "keys"), name="issuer.pub.pem", origin="hq", now=NOW)
    in_force = RulesInForce(config, store)
    trust = in_force.current.trust
    store.db.execute("UPDATE trust_documents SET confirmed_at = ?", [(NOW + timedelta(hours=5)).isoformat()])

    assert in_force.refresh() is False
    assert in_force.current.trust is trust and trust.updated_at == NOW + timedelta(hours=5)


def test_rules_that_cannot_be_read_leave_those_in_force_and_are_reported_once(
    config: KioskConfig, store: GateStore
) -> None:
    in_force = RulesInForce(config, store)
    before = in_force.current
    store.set_meta({HQ_POLICY_META: '{"colours": {"yellow": "maybe"}}'})

    with pytest.raises(PolicyError, match="unreadable"):
        in_force.refresh()
    assert in_force.current is before
    assert in_force.refresh() is False  # said once, not at every refresh


def test_trust_list_judges_the_keys_age_by_hqs_policy_not_the_config_file(
    config: KioskConfig, store: GateStore, tmp_path: Path
) -> None:
    """The configuration's policy allows keys a week; HQ's, in force, allows them an hour."""
    confirmed = datetime.now(UTC) - timedelta(hours=3)
    import_document(store, _issuer_key(tmp_path / "keys"), name="issuer.pub.pem", now=confirmed)
    keep_hq_policy(store, hq_policy_text({"freshness": {"keys_max_age_hours": 1, "stale_keys": "hold"}}))
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text(f'gate_id = "north-gate"\ndatabase = "{config.database}"\n')

    result = CliRunner().invoke(kiosk_main, ["trust", "list", "--config", str(config_file)])

    assert result.exit_code == 0, result.output
    assert "trust list last refreshed 3 h ago: STALE (limit 1 h; codes then hold)" in result.output
    assert RulesInForce(config, store).current.policy.section(FreshnessRule).keys_max_age_hours == 1
