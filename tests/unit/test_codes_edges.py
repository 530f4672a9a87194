"""Edges of the standard certificates and trust lists: multi-part cards held and forgotten by an injected clock,
entries read whatever the machine's time zone, coding systems told apart, names without a given name, and the
words of the rarer refusals."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from sync.core.codes import CodeError, Reason, TrustList, read_code
from sync.core.codes.shc import PENDING_SECONDS, SHC, ChunkSets
from sync.core.codes.trust import TrustError
from tests.standards_certs import (
    EKU_RECOVERY,
    EKU_VACCINATION,
    NOW,
    Csca,
    DocumentSignerKeys,
    ShcIssuer,
    dcc_payload,
    dcc_test_entry,
    immunization,
    issue_dcc,
    lab_result,
    make_dsc,
    patient,
    shc_payload,
    shc_text,
    sign_shc,
    vaccination_entry,
)
from tests.standards_fixtures import csca, dsc, dsc_list, issuer_jwks, shc_issuer  # noqa: F401 - fixtures


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def shanghai(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's clock in UTC+8: nothing a code says may depend on it."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="module")
def trust(dsc: DocumentSignerKeys, shc_issuer: ShcIssuer) -> TrustList:  # noqa: F811
    trust = TrustList()
    trust.add_document(dsc_list(dsc), "dsc.pem")
    trust.add_document(issuer_jwks(shc_issuer), "issuer.jwks.json")
    return trust


# -- multi-part cards ----------------------------------------------------------------------------------------


def test_a_part_set_is_kept_for_its_whole_window_and_forgotten_after() -> None:
    clock = Clock()
    sets = ChunkSets(clock)
    sets.add(1, 2, "00")
    clock.now = PENDING_SECONDS
    assert sets.add(2, 2, "11") == "0011"
    sets.add(1, 2, "00")
    clock.now += PENDING_SECONDS + 0.001
    assert sets.add(2, 2, "11") is None and sets.held(2) == 1


def test_a_different_part_at_the_same_place_starts_a_new_set_and_its_window() -> None:
    clock = Clock()
    sets = ChunkSets(clock)
    sets.add(1, 2, "00")
    clock.now = 100
    sets.add(1, 2, "22")  # another card
    clock.now = 150
    assert sets.add(2, 2, "11") == "2211"


def test_the_oldest_set_makes_room_for_a_new_one() -> None:
    clock = Clock()
    sets = ChunkSets(clock)
    for total in (5, 2, 3, 4):
        sets.add(1, total, "00")
        clock.now += 1
    sets.add(1, 6, "00")
    assert [sets.held(total) for total in (2, 3, 4, 5, 6)] == [1, 1, 1, 0, 1]
    assert ChunkSets().held(3) == 0


# -- standard certificates -------------------------------------------------------------------------------------


def test_times_read_from_certificates_do_not_depend_on_the_machines_zone(
    shanghai: None, dsc: DocumentSignerKeys, shc_issuer: ShcIssuer, trust: TrustList  # noqa: F811
) -> None:
    dcc = read_code(issue_dcc(dsc, dcc_payload("t", [dcc_test_entry(NOW - timedelta(hours=5))])), trust, NOW)
    card = SHC().verify(shc_text(sign_shc(shc_issuer, shc_payload([patient(), lab_result(NOW - timedelta(hours=5))]))), trust, NOW)
    for credential in (dcc, card):
        assert credential.extra["entries"] == "NAA test negative, sampled 2026-11-23 04:00 UTC"


def test_a_dcc_name_without_a_given_name_is_its_family_name(dsc: DocumentSignerKeys, trust: TrustList) -> None:  # noqa: F811
    credential = read_code(issue_dcc(dsc, dcc_payload(nam={"fnt": "MUSTERFRAU"})), trust, NOW)
    assert credential.name == "M*********"


def test_a_completed_series_and_a_booster_are_complete(dsc: DocumentSignerKeys, trust: TrustList) -> None:  # noqa: F811
    for done, series in ((2, 2), (3, 2)):
        credential = read_code(issue_dcc(dsc, dcc_payload("v", [vaccination_entry(done, series)])), trust, NOW)
        assert credential.evidence[0].complete is True
    partial = read_code(issue_dcc(dsc, dcc_payload("v", [vaccination_entry(1, 2)])), trust, NOW)
    assert partial.evidence[0].complete is False


def test_a_signer_limited_to_some_entries_names_them(csca: Csca) -> None:  # noqa: F811
    signer = make_dsc(csca, usages=[EKU_VACCINATION, EKU_RECOVERY], common_name="DSC v+r")
    trust = TrustList()
    trust.add_document(signer.pem(), "vr.pem")
    with pytest.raises(CodeError) as caught:
        read_code(issue_dcc(signer), trust, NOW)
    assert str(caught.value).endswith(": test entry; signer may sign recovery, vaccination")


def test_a_certificate_too_deeply_nested_is_not_json_the_schema_can_judge(dsc: DocumentSignerKeys, trust: TrustList) -> None:  # noqa: F811
    def nested(depth: int) -> Any:
        value: Any = "x"
        for _ in range(depth):
            value = [value]
        return value

    with pytest.raises(CodeError) as caught:
        read_code(issue_dcc(dsc, dcc_payload(extra=nested(16))), trust, NOW)
    assert str(caught.value) == "certificate content does not follow its standard's schema: nested too deeply"
    assert read_code(issue_dcc(dsc, dcc_payload(extra=nested(15))), trust, NOW).format == "HC1"


# -- SMART Health Cards ----------------------------------------------------------------------------------------


def card(issuer: ShcIssuer, *resources: dict[str, Any], **fields: Any) -> str:
    return shc_text(sign_shc(issuer, shc_payload(list(resources), **fields)))


def test_codes_count_only_in_their_own_coding_system(shc_issuer: ShcIssuer, trust: TrustList) -> None:  # noqa: F811
    elsewhere = lab_result() | {"code": {"coding": [{"system": "http://example.org/codes", "code": "94500-6"}]}}
    unnamed = lab_result() | {"code": {"coding": [{"code": "94500-6"}]}}
    assert SHC().verify(card(shc_issuer, patient(), elsewhere), trust, NOW).evidence == ()
    assert len(SHC().verify(card(shc_issuer, patient(), unnamed), trust, NOW).evidence) == 1


def test_a_card_without_a_patient_has_no_name(shc_issuer: ShcIssuer, trust: TrustList) -> None:  # noqa: F811
    assert SHC().verify(card(shc_issuer, lab_result()), trust, NOW).name == ""


def test_a_card_valid_from_the_clock_skew_is_not_expired(shc_issuer: ShcIssuer, trust: TrustList) -> None:  # noqa: F811
    credential = SHC().verify(card(shc_issuer, patient(), nbf=NOW + timedelta(minutes=5)), trust, NOW)
    assert credential.checks.expired is False


def test_a_vaccination_date_may_carry_a_time(shc_issuer: ShcIssuer, trust: TrustList) -> None:  # noqa: F811
    dose = immunization((NOW - timedelta(days=30)).date()) | {"occurrenceDateTime": "2026-10-24T10:00:00Z"}
    credential = SHC().verify(card(shc_issuer, patient(), dose, dose), trust, NOW)
    assert credential.evidence[0].vaccinated_on.isoformat() == "2026-10-24"  # type: ignore[union-attr]


def test_schema_problems_are_named_three_at_most(shc_issuer: ShcIssuer, trust: TrustList) -> None:  # noqa: F811
    with pytest.raises(CodeError) as caught:
        SHC().verify(shc_text(sign_shc(shc_issuer, {"nbf": "x", "exp": "y"})), trust, NOW)
    assert str(caught.value) == "certificate content does not follow its standard's schema: iss; nbf; exp"


def test_a_long_time_without_a_zone_is_quoted_short(shc_issuer: ShcIssuer, trust: TrustList) -> None:  # noqa: F811
    sampled = lab_result() | {"effectiveDateTime": "2026-11-23T04:00:00.123456789012"}
    with pytest.raises(CodeError) as caught:
        SHC().verify(card(shc_issuer, patient(), sampled), trust, NOW)
    assert str(caught.value).endswith("time '2026-11-23T04:00:00.1234567890' has no time zone")  # 30 of 32 characters


def test_a_text_without_the_prefix_is_not_a_card(trust: TrustList) -> None:
    with pytest.raises(CodeError) as caught:
        SHC().verify("HC1:X", trust, NOW)
    assert caught.value.reason is Reason.NOT_OURS


# -- trust documents -------------------------------------------------------------------------------------------


def test_each_kind_of_trust_document_is_summarised_under_its_name(shc_issuer: ShcIssuer) -> None:  # noqa: F811
    jwks = TrustList().add_document(issuer_jwks(shc_issuer), "issuer.json")
    directory = {"participating_issuers": [{"issuer": {"iss": shc_issuer.iss}, "keys": [shc_issuer.public_jwk()]}]}
    listed = TrustList().add_document(json.dumps(directory).encode(), "dir.json")
    crl = TrustList().add_document(json.dumps({"kid": "k", "rids": ["r"]}).encode(), "crl.json")
    assert [(s.label, s.kind) for s in (jwks, listed, crl)] == [
        ("issuer.json", "jwks"), ("dir.json", "shc-directory"), ("crl.json", "shc-crl")]  # fmt: skip


def test_an_empty_key_set_says_only_that_it_holds_nothing() -> None:
    with pytest.raises(TrustError) as caught:
        TrustList().add_document(json.dumps({"keys": [], "iss": "https://a.example"}).encode(), "empty.json")
    assert str(caught.value) == "empty.json: holds no key or certificate the gate can use"


def test_a_long_revoked_id_is_quoted_short() -> None:
    with pytest.raises(TrustError) as caught:
        TrustList().add_document(json.dumps({"kid": "k", "rids": ["r" * 45 + ".12a"]}).encode(), "crl.json")
    assert str(caught.value) == f"crl.json: revoked id {'r' * 40!r} has a bad timestamp"
