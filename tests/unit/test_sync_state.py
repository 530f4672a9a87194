"""The gate's sync state: its own migration set, a cursor that only moves forward, and bundles applied all at
once or not at all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.codes.keys import create_issuer_keys
from kiosk.config import KioskConfig
from kiosk.gate import HQ_POLICY_META, hq_policy_ignored, policy_in_force
from kiosk.policy import Decision
from kiosk.store import GateStore
from kiosk.trust_store import import_document, last_confirmed, list_documents
from sync.bundle import BundleError
from sync.hq.lists import trust_documents_from
from sync.protocol import ISSUER_PUBLIC_KEY, TRUST_FILE, BundleContent, ColourRow, PassRow, RosterRow, TrustDocument
from sync.state import SyncState

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[GateStore]:
    with GateStore(tmp_path / "gate.db", "north-gate") as opened:
        yield opened


@pytest.fixture
def issuer(tmp_path: Path) -> TrustDocument:
    create_issuer_keys(tmp_path / "keys")
    return trust_documents_from([tmp_path / "keys"])[0]


def _bundle(version: int, issuer: TrustDocument, **changes: object) -> BundleContent:
    values: dict[str, object] = {
        "gate": "north-gate",
        "version": version,
        "issued_at": NOW,
        "roster": [RosterRow(subject="11" * 16, name="L* S*", unit="3-201")],
        "passes": [PassRow(id="p1", subject="22" * 16, kind="staff", valid_from="2026-11-23T00:00:00.000+00:00",
                           valid_until="2026-11-24T00:00:00.000+00:00")],
        "colour_list": [ColourRow(subject="33" * 16, colour="red")],
        "policy": {"colours": {"yellow": "hold"}},
        "trust": [issuer],
    }
    return BundleContent.model_validate(values | changes)


def test_sync_tables_have_their_own_migration_set(store: GateStore) -> None:
    SyncState(store)
    SyncState(store)  # applying twice is harmless
    sets = store.db.execute("SELECT DISTINCT migration_set FROM _sqlite_migrations ORDER BY 1").fetchall()
    assert [s[0] for s in sets] == ["pocket-gate", "pocket-gate-sync"]


def test_the_cursor_only_moves_forward(store: GateStore) -> None:
    state = SyncState(store)
    state.advance_cursor(40, alerts=1)
    state.advance_cursor(12)
    record = state.record()
    assert (record.upload_cursor, record.hq_alerts) == (40, 1)


def test_a_bundle_replaces_every_list_and_the_policy(store: GateStore, issuer: TrustDocument) -> None:
    state = SyncState(store)

    assert state.apply_bundle(_bundle(3, issuer), NOW)

    assert [r["unit"] for r in store.rows("roster")] == ["3-201"]
    assert [r["id"] for r in store.rows("passes")] == ["p1"]
    assert [r["colour"] for r in store.rows("colour_list")] == ["red"]
    assert [(d.name, d.origin) for d in list_documents(store)] == [(f"hq/{issuer.id}", "hq")]
    assert policy_in_force(KioskConfig(), store).colours.yellow is Decision.HOLD
    assert (state.record().bundle_version, state.record().bundle_applied_at) == (3, NOW)
    assert not state.apply_bundle(_bundle(3, issuer), NOW)  # same version: nothing to do


def test_a_bundle_without_policy_returns_the_gate_to_its_own_file(store: GateStore, issuer: TrustDocument) -> None:
    state = SyncState(store)
    state.apply_bundle(_bundle(3, issuer), NOW)
    state.apply_bundle(_bundle(4, issuer, policy=None), NOW)
    assert policy_in_force(KioskConfig(), store).colours.yellow is Decision.REFUSE


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"version": 2}, "older than the one in force"),
        ({"gate": "south-gate"}, "is for gate 'south-gate'"),
        ({"policy": {"colours": {"yellow": "maybe"}, "quarantine": {"days": 14}}}, "colours.yellow: Input should be"),
        ({"trust": [TrustDocument(type=ISSUER_PUBLIC_KEY, id="00" * 8, content="garbage")]}, "not a PEM public key"),
        ({"trust": [TrustDocument(type=TRUST_FILE, id="dsc.der", content="%%%", encoding="base64")]}, "not base64"),
        ({"trust": [TrustDocument(type=TRUST_FILE, id="x.json", content='{"keys": []}')]}, "trust: hq/x.json"),
    ],
    ids=["rollback", "other-gate", "bad-rule-value", "bad-key", "bad-encoding", "unusable-file"],
)
def test_a_bad_bundle_changes_nothing(
    store: GateStore, issuer: TrustDocument, changes: dict[str, object], words: str
) -> None:
    state = SyncState(store)
    state.apply_bundle(_bundle(3, issuer), NOW)
    before = {t: store.rows(t) for t in ("roster", "passes", "colour_list", "trust_documents", "meta")}

    with pytest.raises(BundleError, match=words):
        state.apply_bundle(_bundle(5, issuer, roster=[], colour_list=[]).model_copy(update=changes), NOW)

    assert {t: store.rows(t) for t in before} == before
    assert state.record().bundle_version == 3


def test_rules_this_gate_does_not_know_are_kept_and_named_not_a_reason_to_refuse_the_bundle(
    store: GateStore, issuer: TrustDocument
) -> None:
    newer = {"colours": {"yellow": "hold", "blue": "pass"}, "quarantine": {"days": 14}}
    state = SyncState(store)

    assert state.apply_bundle(_bundle(3, issuer, policy=newer), NOW)

    assert [r["colour"] for r in store.rows("colour_list")] == ["red"]
    assert policy_in_force(KioskConfig(), store).colours.yellow is Decision.HOLD
    assert hq_policy_ignored(store) == ("colours.blue", "quarantine")
    assert json.loads(store.get_meta(HQ_POLICY_META) or "") == newer, "kept whole, for when the gate is updated"


def test_a_key_that_lies_about_its_id_is_refused(store: GateStore, issuer: TrustDocument) -> None:
    liar = issuer.model_copy(update={"id": "ff" * 8})
    with pytest.raises(BundleError, match="is really key"):
        SyncState(store).apply_bundle(_bundle(1, liar), NOW)


def test_hq_confirming_its_bundle_keeps_the_lists_and_trust_list_fresh(store: GateStore, issuer: TrustDocument) -> None:
    state = SyncState(store)
    state.apply_bundle(_bundle(3, issuer), NOW)
    assert state.record().bundle_checked_at == NOW
    later = NOW.replace(hour=20)

    state.confirm_bundle(later)

    assert [d.confirmed_at for d in list_documents(store)] == [later] and last_confirmed(store) == later
    record = state.record()
    assert (record.bundle_version, record.bundle_applied_at, record.bundle_checked_at) == (3, NOW, later)


def test_a_keepers_own_trust_import_is_left_alone(store: GateStore, issuer: TrustDocument) -> None:
    import_document(store, issuer.data(), name=f"hq/{issuer.id}.pem", origin="file")
    state = SyncState(store)

    state.apply_bundle(_bundle(3, issuer), NOW)
    state.apply_bundle(_bundle(4, issuer, trust=[]), NOW)

    assert [(d.name, d.origin) for d in list_documents(store)] == [(f"hq/{issuer.id}.pem", "file")]
