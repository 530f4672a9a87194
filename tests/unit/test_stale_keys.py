"""A trust list older than `freshness.keys_max_age_hours` is a warning for every code format the gate reads (the
district's own PGC1 codes, EU DCCs, SMART Health Cards), and `freshness.stale_keys` decides whether the code
still passes. Judged through the gate itself: real codes, trust documents stored as `trust import` stores them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from sync.core.codes import Colour, TrustList
from sync.core.codes.keys import load_issuer_key
from sync.core.codes.pgc import issue_code
from kiosk.gate import Gate
from sync.core.policy import Decision, Direction, Policy
from kiosk.store import GateStore
from kiosk.trust_store import import_document, load_documents
from tests.standards_certs import NOW, DocumentSignerKeys, ShcIssuer, dcc_payload, issue_dcc, issue_shc, lab_result, patient, shc_payload
from tests.standards_fixtures import dsc, dsc_list, csca, issuer_jwks, shc_issuer  # noqa: F401 - fixtures

LOOSE = {"access": {"non_resident_without_pass": "pass"}}
"""Visitors pass without an HQ pass here: the trust list's age is the only thing judged."""
STALE = NOW - timedelta(hours=200)
WARNING = "trust list is 200 h old (freshness.keys_max_age_hours: 168 h)"


@pytest.fixture
def codes(hq_keys: Path, dsc: DocumentSignerKeys, shc_issuer: ShcIssuer) -> dict[str, str]:  # noqa: F811
    """A valid code of every format, each signed by an issuer the gate trusts."""
    issuer = load_issuer_key(hq_keys)
    pgc = issue_code(
        issuer, issuer="district", subject="ab" * 16, name="Z**** S**", colour=Colour.GREEN,
        issued_at=NOW - timedelta(hours=1), expires_at=NOW + timedelta(hours=23),
    )  # fmt: skip
    shc = issue_shc(shc_issuer, shc_payload([patient(), lab_result(NOW - timedelta(hours=5))]))
    return {"PGC1": pgc, "HC1": issue_dcc(dsc, dcc_payload()), "SHC": shc}


@pytest.fixture
def gate_at(
    tmp_path: Path, hq_keys: Path, dsc: DocumentSignerKeys, shc_issuer: ShcIssuer  # noqa: F811
) -> Iterator[Callable[[datetime, dict[str, object]], Gate]]:
    """gate_at(confirmed, policy) -> a gate whose trust documents HQ (or `trust import`) last confirmed then."""
    stores: list[GateStore] = []

    def make(confirmed: datetime, policy: dict[str, object]) -> Gate:
        store = GateStore(tmp_path / f"gate-{len(stores)}.db", "north-gate")
        stores.append(store)
        (pem,) = (hq_keys / "trust").glob("*.pub.pem")
        for name, data in (("issuer.pub.pem", pem.read_bytes()), ("dsc-list.pem", dsc_list(dsc)),
                           ("issuer.jwks.json", issuer_jwks(shc_issuer))):  # fmt: skip
            import_document(store, data, name=name, now=confirmed)
        trust = TrustList()
        load_documents(store, trust)
        return Gate(store, trust, Policy.model_validate(policy))

    yield make
    for store in stores:
        store.close()


FORMATS = ["PGC1", "HC1", "SHC"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_fresh_trust_list_gives_no_warning(codes: dict[str, str], gate_at: Callable[..., Gate], fmt: str) -> None:
    verdict = gate_at(NOW - timedelta(hours=167), LOOSE).assess_code(codes[fmt], direction=Direction.IN, now=NOW).verdict

    assert (verdict.decision, verdict.warnings) == (Decision.PASS, ())


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_stale_trust_list_is_a_warning_and_the_code_still_passes(
    codes: dict[str, str], gate_at: Callable[..., Gate], fmt: str
) -> None:
    assessment = gate_at(STALE, LOOSE).assess_code(codes[fmt], direction=Direction.IN, now=NOW)

    assert assessment.credential is not None and assessment.credential.format == fmt
    assert (assessment.verdict.decision, assessment.verdict.warnings) == (Decision.PASS, (WARNING,))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("decision", [Decision.HOLD, Decision.REFUSE])
def test_the_policy_can_hold_or_refuse_a_code_checked_against_stale_keys(
    codes: dict[str, str], gate_at: Callable[..., Gate], fmt: str, decision: Decision
) -> None:
    strict = LOOSE | {"freshness": {"stale_keys": decision.value}}
    verdict = gate_at(STALE, strict).assess_code(codes[fmt], direction=Direction.IN, now=NOW).verdict

    assert (verdict.decision, verdict.reasons, verdict.warnings) == (decision, (WARNING,), (WARNING,))
