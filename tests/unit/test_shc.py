"""SMART Health Cards: good cards, bad signature, bad deflate, unknown or missing kid, revoked rid, expiry, the
issuer binding, and chunked QR reassembled across scans, on cards signed here with our own issuer keys."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from kiosk.codes import CodeError, Reason, TrustList, read_code
from kiosk.codes.base import Checks, EvidenceKind, TestResult, TestType
from kiosk.codes.shc import MAX_PAYLOAD_BYTES, MAX_TEXT_CHARS, PENDING_SECONDS, PENDING_SETS, SHC, jws_to_numeric
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
    csca,
    dsc,
    dsc_expired,
    dsc_rsa,
    dsc_test_only,
    dsc_vaccination_only,
    shc_issuer,
    shc_other_issuer,
    trust,
)


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
    resources = [
        patient(),
        lab_result(NOW - timedelta(hours=30)),
        lab_result(NOW - timedelta(hours=3), loinc="94558-4"),
        lab_result(NOW - timedelta(hours=2), loinc="12345-6"),
        immunization((NOW - timedelta(days=40)).date(), cvx="212"),
        immunization((NOW - timedelta(days=40)).date(), cvx="03"),
    ]
    credential = read_code(issue_shc(shc_issuer, shc_payload(resources)), trust, NOW)
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


def test_card_without_issuer_in_jwks_is_trusted_only_by_kid(shc_issuer: ShcIssuer) -> None:
    """`check --trust jwks.json` on a JWKS without iss: a diagnosis by key alone."""
    unbound = TrustList()
    unbound.add_document(json.dumps(shc_issuer.jwks(with_iss=False)).encode(), "plain.jwks")
    assert unbound.has_unbound_shc_keys()
    assert read_code(issue_shc(shc_issuer, shc_payload(iss="https://any.example.com")), unbound, NOW).format == "SHC"


# -- failures ------------------------------------------------------------------------------------------------


def test_bad_signature(shc_issuer: ShcIssuer, trust: TrustList) -> None:
    token = sign_shc(shc_issuer, shc_payload())
    head, body, signature = token.split(".")
    tampered = f"{head}.{body}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    error = failure(shc_text(tampered), trust)
    assert error.reason is Reason.BAD_SIGNATURE
    assert error.checks == Checks(signature_valid=False)


def test_altered_payload_under_the_original_signature(shc_issuer: ShcIssuer, trust: TrustList) -> None:
    genuine = sign_shc(shc_issuer, shc_payload([patient(), lab_result(result="10828004")]))
    forged = sign_shc(shc_issuer, shc_payload([patient(), lab_result()]))
    spliced = ".".join([genuine.split(".")[0], forged.split(".")[1], genuine.split(".")[2]])
    assert failure(shc_text(spliced), trust).reason is Reason.BAD_SIGNATURE


def test_signed_by_another_key_claiming_a_trusted_kid(
    shc_issuer: ShcIssuer, shc_other_issuer: ShcIssuer, trust: TrustList
) -> None:
    header = {"alg": "ES256", "zip": "DEF", "kid": shc_issuer.kid}
    text = shc_text(sign_shc(shc_other_issuer, shc_payload(), header=header))
    assert failure(text, trust).reason is Reason.BAD_SIGNATURE


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps(shc_payload()).encode(),  # not compressed at all
        deflate(json.dumps(shc_payload()).encode())[:-8],  # truncated stream
        deflate(json.dumps(shc_payload()).encode()) + b"tail",  # data after the stream
        b"\x78\x9c" + deflate(b"{}"),  # a zlib header where raw DEFLATE belongs
    ],
)
def test_bad_deflate(shc_issuer: ShcIssuer, trust: TrustList, raw: bytes) -> None:
    error = failure(shc_text(sign_shc(shc_issuer, None, raw_payload=raw)), trust)
    assert error.reason is Reason.MALFORMED
    assert error.checks.signature_valid is True


def test_deflate_bomb_is_refused_while_inflating(shc_issuer: ShcIssuer, trust: TrustList) -> None:
    bomb = deflate(b" " * (MAX_PAYLOAD_BYTES * 100))
    error = failure(shc_text(sign_shc(shc_issuer, None, raw_payload=bomb)), trust)
    assert error.reason is Reason.TOO_LARGE


def test_payload_that_is_not_json(shc_issuer: ShcIssuer, trust: TrustList) -> None:
    error = failure(shc_text(sign_shc(shc_issuer, None, raw_payload=deflate(b"\xff{not json"))), trust)
    assert error.reason is Reason.MALFORMED


def test_unknown_kid(shc_other_issuer: ShcIssuer, trust: TrustList) -> None:
    error = failure(issue_shc(shc_other_issuer), trust)
    assert error.reason is Reason.UNKNOWN_ISSUER
    assert shc_other_issuer.kid in str(error)


def test_kid_less_card_fails_closed(shc_issuer: ShcIssuer, trust: TrustList) -> None:
    text = shc_text(sign_shc(shc_issuer, shc_payload(), header={"alg": "ES256", "zip": "DEF"}))
    assert failure(text, trust).reason is Reason.NO_KEY_ID


@pytest.mark.parametrize(
    "header", [{"alg": "ES256", "kid": "k"}, {"alg": "ES256", "zip": "GZIP", "kid": "k"}, {"alg": "none", "zip": "DEF"}]
)
def test_header_must_be_es256_with_deflate(shc_issuer: ShcIssuer, trust: TrustList, header: dict) -> None:
    import base64

    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    token = sign_shc(shc_issuer, shc_payload())
    assert failure(shc_text(".".join([encoded, *token.split(".")[1:]])), trust).reason is Reason.MALFORMED


def test_card_from_a_key_bound_to_another_issuer(shc_issuer: ShcIssuer, trust: TrustList) -> None:
    text = issue_shc(shc_issuer, shc_payload(iss="https://impostor.example.com"))
    error = failure(text, trust)
    assert error.reason is Reason.UNKNOWN_ISSUER and "another issuer" in str(error)


def test_revoked_rid(shc_issuer: ShcIssuer, trust: TrustList) -> None:
    error = failure(issue_shc(shc_issuer, shc_payload(rid="revokedRid1")), trust)
    assert error.reason is Reason.REVOKED
    assert error.checks.signature_valid is True
    assert read_code(issue_shc(shc_issuer, shc_payload(rid="stillGoodRid")), trust, NOW).format == "SHC"


def test_rid_revoked_only_before_a_time(shc_issuer: ShcIssuer, trust: TrustList) -> None:
    older = issue_shc(shc_issuer, shc_payload(rid="revokedOld", nbf=NOW - timedelta(days=3)))
    newer = issue_shc(shc_issuer, shc_payload(rid="revokedOld", nbf=NOW - timedelta(hours=1)))
    assert failure(older, trust).reason is Reason.REVOKED
    assert read_code(newer, trust, NOW).format == "SHC"


def test_expired_and_not_yet_valid_cards(shc_issuer: ShcIssuer, trust: TrustList) -> None:
    expired = failure(issue_shc(shc_issuer, shc_payload(exp=NOW - timedelta(minutes=1))), trust)
    assert expired.reason is Reason.EXPIRED and expired.checks.expired is True
    early = failure(issue_shc(shc_issuer, shc_payload(nbf=NOW + timedelta(hours=1))), trust)
    assert early.reason is Reason.NOT_YET_VALID


@pytest.mark.parametrize(
    "payload",
    [
        {"iss": "https://health.example.org/issuer", "nbf": 1},
        shc_payload() | {"nbf": "yesterday"},
        shc_payload() | {"nbf": 2**39},  # beyond the year 9999
        shc_payload() | {"iss": "http://health.example.org/issuer"},
        shc_payload() | {"vc": {"type": ["https://smarthealth.cards#health-card"]}},
        shc_payload() | {"vc": shc_payload()["vc"] | {"type": ["https://example.org#other"]}},
        shc_payload() | {"vc": shc_payload()["vc"] | {"rid": "not a rid!"}},
        shc_payload([patient(), {"resourceType": "Immunization", "status": "completed"}]),
        shc_payload([patient(), lab_result() | {"effectiveDateTime": "2026-11-23T04:00:00"}]),
        shc_payload([patient(), immunization(NOW.date()) | {"occurrenceDateTime": "last week"}]),
        [1, 2, 3],
    ],
)
def test_schema_violation(shc_issuer: ShcIssuer, trust: TrustList, payload: object) -> None:
    error = failure(issue_shc(shc_issuer, payload), trust)
    assert error.reason is Reason.SCHEMA_INVALID
    assert error.checks.signature_valid is True and error.checks.schema_valid is False


@pytest.mark.parametrize(
    "text", ["shc:/", "shc:/123", "shc:/9999", "shc:/12a4", "shc:/1/1/1234", "shc:/3/2/1234", "shc:/0/2/12", "shc://12"]
)
def test_malformed_numeric_forms(trust: TrustList, text: str) -> None:
    assert failure(text, trust).reason is Reason.MALFORMED


def test_unicode_digits_are_not_digits(trust: TrustList) -> None:
    assert failure("shc:/" + "\u0661\u0662" * 10, trust).reason is Reason.MALFORMED


def test_oversized_text_is_refused_before_decoding(trust: TrustList) -> None:
    assert failure("shc:/" + "56" * MAX_TEXT_CHARS, trust).reason is Reason.TOO_LARGE


def test_numeric_encoding_round_trip() -> None:
    assert jws_to_numeric("-.z") == "000177"


# -- chunked QR ----------------------------------------------------------------------------------------------


def test_chunks_are_reassembled_in_any_order(shc_issuer: ShcIssuer, trust: TrustList) -> None:
    fmt = SHC()
    chunks = shc_chunks(sign_shc(shc_issuer, shc_payload()), 3)
    first, second = failure(chunks[2], trust, fmt), failure(chunks[0], trust, fmt)
    assert (first.reason, second.reason) == (Reason.INCOMPLETE, Reason.INCOMPLETE)
    assert "1 of 3" in str(first) and "2 of 3" in str(second)
    credential = fmt.verify(chunks[1], trust, NOW)
    assert credential.evidence[0].complete is True
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


def test_a_damaged_chunk_is_refused_at_once(trust: TrustList) -> None:
    assert failure("shc:/1/2/999", trust).reason is Reason.MALFORMED
