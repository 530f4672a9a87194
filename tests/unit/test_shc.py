"""SMART Health Cards: good cards, bad signature, bad deflate, unknown or missing kid, revoked rid, expiry, the
issuer binding, and chunked QR reassembled across scans, on cards signed here with our own issuer keys.

The result classes are the shared cases of tests/standards_cases.py (the frame tests run the same ones as QR
images); the tests here add what a case alone does not say.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from sync.core.codes import CodeError, Reason, TrustList, read_code
from sync.core.codes.base import Checks, EvidenceKind, TestResult, TestType
from sync.core.codes.shc import MAX_PAYLOAD_BYTES, MAX_TEXT_CHARS, PENDING_SECONDS, PENDING_SETS, SHC, jws_to_numeric
from kiosk.gate import Gate
from sync.core.policy import Direction, Policy
from kiosk.verdict_lines import credential_json, human_line
from tests.standards_cases import LAB_RESOURCES, SHC_CASES, Case, assert_outcome
from tests.standards_certs import (
    NOW,
    ShcIssuer,
    deflate,
    immunization,
    issue_shc,
    lab_result,
    patient,
    shc_chunks,
    shc_payload,
    shc_text,
    sign_shc,
)
from tests.standards_fixtures import (  # noqa: F401 - fixtures
    Cast,
    cast,
    csca,
    dsc,
    dsc_expired,
    dsc_rsa,
    dsc_test_only,
    dsc_untrusted,
    dsc_vaccination_only,
    shc_issuer,
    shc_other_issuer,
    trust,
)

CASES = {case.name: case for case in SHC_CASES}


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def failure(text: str, trust: TrustList, fmt: SHC | None = None) -> CodeError:
    with pytest.raises(CodeError) as caught:
        (fmt or SHC()).verify(text, trust, NOW)
    return caught.value


@pytest.mark.parametrize("case", [case.param() for case in SHC_CASES])
def test_result_class(cast: Cast, trust: TrustList, case: Case) -> None:
    """Each shared case: the reason, the words naming the failed step (or the entries attested) and the checks."""
    assert_outcome(case, cast, case.make(cast), trust)


# -- good cards ----------------------------------------------------------------------------------------------


def test_good_vaccination_card(shc_issuer: ShcIssuer, trust: TrustList) -> None:
    credential = read_code(issue_shc(shc_issuer), trust, NOW)
    assert credential.format == "SHC"
    assert credential.issuer == shc_issuer.iss
    assert credential.kid == shc_issuer.kid
    assert credential.name == "J*** D**"
    assert credential.is_certificate and credential.subject is None
    assert credential.issued_at == NOW - timedelta(days=1) and credential.expires_at is None
    (vaccination,) = credential.evidence
    assert vaccination.kind is EvidenceKind.VACCINATION
    assert (vaccination.dose, vaccination.complete) == (2, True)
    assert vaccination.vaccinated_on == (NOW - timedelta(days=30)).date()
    assert credential.checks == Checks(signature_valid=True, expired=False, schema_valid=True)


def test_lab_results_and_vaccines_are_read(shc_issuer: ShcIssuer, trust: TrustList) -> None:
    credential = read_code(issue_shc(shc_issuer, shc_payload(LAB_RESOURCES)), trust, NOW)
    naa, rapid, vaccination = credential.evidence
    assert (naa.test_type, naa.test_result, naa.sampled_at) == (
        TestType.NAA,
        TestResult.NEGATIVE,
        NOW - timedelta(hours=30),
    )
    assert rapid.test_type is TestType.RAPID
    assert (vaccination.dose, vaccination.complete) == (1, True)  # one dose of a single-dose vaccine
    assert credential.negative_test_at == NOW - timedelta(hours=30)


def test_one_dose_of_a_two_dose_vaccine_is_not_complete(shc_issuer: ShcIssuer, trust: TrustList) -> None:
    card = shc_payload([patient(), immunization((NOW - timedelta(days=40)).date())])
    (vaccination,) = read_code(issue_shc(shc_issuer, card), trust, NOW).evidence
    assert vaccination.complete is False


def test_names_are_masked_and_hostile_text_stays_text(shc_issuer: ShcIssuer, trust: TrustList) -> None:
    """A patient name carrying a bidi override, a terminal escape and Rich markup, as in test_hcert's DCC: masked
    on the credential, and escaped in what `check` and `scan` print."""
    family = "\x1b[2J[red]Boom[/red]"
    text = issue_shc(shc_issuer, shc_payload([patient(given="\u202eEvil", family=family), lab_result()]))
    credential = read_code(text, trust, NOW)
    assert credential.name == "\u202e**** \x1b" + "*" * (len(family) - 1)
    shown = credential_json(credential)["name"]
    assert "\x1b" not in shown and "\u202e" not in shown
    assert shown.startswith("\\u202e****") and "\\x1b" in shown
    line = human_line(Gate(None, trust, Policy()).assess_code(text, direction=Direction.IN, now=NOW))
    assert "\x1b" not in line and "\u202e" not in line and "[red]" not in line
    assert "\\u202e**** \\x1b****" in line


def test_card_without_issuer_in_jwks_is_trusted_only_by_kid(shc_issuer: ShcIssuer) -> None:
    """`check --trust jwks.json` on a JWKS without iss: a diagnosis by key alone."""
    unbound = TrustList()
    unbound.add_document(json.dumps(shc_issuer.jwks(with_iss=False)).encode(), "plain.jwks")
    assert unbound.storage_problems()
    assert read_code(issue_shc(shc_issuer, shc_payload(iss="https://any.example.com")), unbound, NOW).format == "SHC"


# -- failures ------------------------------------------------------------------------------------------------


def test_deflate_bomb_is_refused_while_inflating(shc_issuer: ShcIssuer, trust: TrustList) -> None:
    bomb = deflate(b" " * (MAX_PAYLOAD_BYTES * 8))
    text = shc_text(sign_shc(shc_issuer, None, raw_payload=bomb))
    assert len(text) < MAX_TEXT_CHARS  # small enough to be decoded and inflated, not refused for its size
    error = failure(text, trust)
    assert error.reason is Reason.TOO_LARGE
    assert "raw DEFLATE decompression stopped" in str(error)


def test_a_rid_not_revoked_is_good(shc_issuer: ShcIssuer, trust: TrustList) -> None:
    """Beside the revoked one (the shared case 'revoked rid') in the same revocation list."""
    assert read_code(issue_shc(shc_issuer, shc_payload(rid="stillGoodRid")), trust, NOW).format == "SHC"


def test_oversized_text_is_refused_before_decoding(trust: TrustList) -> None:
    assert failure("shc:/" + "56" * MAX_TEXT_CHARS, trust).reason is Reason.TOO_LARGE


def test_numeric_encoding_round_trip() -> None:
    assert jws_to_numeric("-.z") == "000177"


# -- chunked QR ----------------------------------------------------------------------------------------------


def test_a_reassembled_set_is_forgotten(cast: Cast, trust: TrustList) -> None:
    """Reassembly in any order is the shared case 'good chunked card, parts shown 3, 1, 2'."""
    fmt = SHC()
    *parts, last = CASES["good chunked card, parts shown 3, 1, 2"].make(cast)
    for part in parts:
        assert failure(part, trust, fmt).reason is Reason.INCOMPLETE
    assert len(fmt.chunks) == 1
    assert fmt.verify(last, trust, NOW).evidence[0].complete is True
    assert len(fmt.chunks) == 0


def test_a_repeated_chunk_is_harmless(shc_issuer: ShcIssuer, trust: TrustList) -> None:
    fmt = SHC()
    first, second = shc_chunks(sign_shc(shc_issuer, shc_payload()), 2)
    failure(first, trust, fmt)
    assert "1 of 2" in str(failure(first, trust, fmt))
    assert fmt.verify(second, trust, NOW).format == "SHC"


def test_pending_chunks_expire(shc_issuer: ShcIssuer, trust: TrustList) -> None:
    clock = Clock()
    fmt = SHC(clock)
    first, second = shc_chunks(sign_shc(shc_issuer, shc_payload()), 2)
    failure(first, trust, fmt)
    clock.now += PENDING_SECONDS + 1
    assert "1 of 2" in str(failure(second, trust, fmt))  # the old first part was forgotten


def test_pending_sets_are_bounded(shc_issuer: ShcIssuer, trust: TrustList) -> None:
    clock = Clock()
    fmt = SHC(clock)
    token = sign_shc(shc_issuer, shc_payload())
    for total in range(2, 2 + PENDING_SETS + 3):
        clock.now += 1
        failure(shc_chunks(token, total)[0], trust, fmt)
        assert len(fmt.chunks) <= PENDING_SETS
    assert len(fmt.chunks) == PENDING_SETS


def test_chunks_of_two_cards_never_make_a_valid_one(shc_issuer: ShcIssuer, trust: TrustList) -> None:
    fmt = SHC()
    a = shc_chunks(sign_shc(shc_issuer, shc_payload([patient("Ann"), lab_result()])), 2)
    b = shc_chunks(sign_shc(shc_issuer, shc_payload([patient("Bob"), lab_result()])), 2)
    failure(a[0], trust, fmt)
    failure(b[0], trust, fmt)  # disagrees with a[0] at the same place: a new set for the other card
    assert fmt.verify(b[1], trust, NOW).name == "B** D**"
    failure(a[1], trust, fmt)
    with pytest.raises(CodeError) as caught:
        fmt.verify(b[0], trust, NOW)  # b[0] + a[1]: halves of different cards
    assert caught.value.reason in (Reason.BAD_SIGNATURE, Reason.MALFORMED)

