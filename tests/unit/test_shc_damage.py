"""SMART Health Cards damaged or forged at each layer (the shc:/ digits, the chunks, the JWS, the payload) are
refused with their own reason and the words HQ staff read; validity holds to the second; the card's contents
are read as the issuer wrote them."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sync.core.codes import Checks, CodeError, Reason, TrustList
from sync.core.codes.shc import CLOCK_SKEW, MAX_CHUNKS, MAX_JWS_CHARS, MAX_TEXT_CHARS, SHC
from tests.standards_certs import (
    NOW,
    SHC_ISS,
    ShcIssuer,
    lab_result,
    patient,
    shc_payload,
    shc_text,
    sign_shc,
)
from tests.standards_fixtures import issuer_jwks, shc_issuer  # noqa: F401 - fixtures

NUMERIC = "code is damaged or malformed: shc:/ numeric decoding failed "
JWS = "code is damaged or malformed: JWS decoding failed "


@pytest.fixture(scope="module")
def trust(shc_issuer: ShcIssuer) -> TrustList:  # noqa: F811
    trust = TrustList()
    trust.add_document(issuer_jwks(shc_issuer), "issuer.jwks.json")
    return trust


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(header: dict[str, Any], payload: bytes = b"x", signature: bytes = b"sig") -> str:
    """A compact JWS of any header (not signed)."""
    return f"{b64(json.dumps(header).encode())}.{b64(payload)}.{b64(signature)}"


def refusal(text: str, trust: TrustList, at: datetime = NOW, fmt: SHC | None = None) -> tuple[Reason, str, Checks]:
    with pytest.raises(CodeError) as caught:
        (fmt or SHC()).verify(text, trust, at)
    return caught.value.reason, str(caught.value), caught.value.checks


def card(issuer: ShcIssuer, *resources: dict[str, Any], **fields: Any) -> str:
    return shc_text(sign_shc(issuer, shc_payload(list(resources) or None, **fields)))


CASES: dict[str, tuple[Callable[[ShcIssuer], str], Reason, str]] = {
    "letters": (lambda i: "shc:/abc", Reason.MALFORMED, NUMERIC + "(not shc:/ followed by digits)"),
    "odd digits": (lambda i: "shc:/123", Reason.MALFORMED, NUMERIC + "(odd number of digits)"),
    "pair too high": (lambda i: "shc:/5678", Reason.MALFORMED, NUMERIC + "(digit pair out of range)"),
    "chunk past the total": (lambda i: "shc:/3/2/00", Reason.MALFORMED, NUMERIC + "(chunk 3 of 2)"),
    "one chunk of one": (lambda i: "shc:/1/1/00", Reason.MALFORMED, NUMERIC + "(chunk 1 of 1)"),
    "too many chunks": (lambda i: f"shc:/1/{MAX_CHUNKS + 1}/00", Reason.MALFORMED, NUMERIC + f"(chunk 1 of {MAX_CHUNKS + 1})"),
    "damaged chunk": (lambda i: "shc:/1/2/99", Reason.MALFORMED, NUMERIC + "(digit pair out of range)"),
    "first of the most chunks": (lambda i: f"shc:/1/{MAX_CHUNKS}/00", Reason.INCOMPLETE,
                                 f"part of a multi-part code was read; show the next part: 1 of {MAX_CHUNKS} parts read"),
    "text too long": (lambda i: "shc:/" + "0" * (MAX_TEXT_CHARS - 4), Reason.TOO_LARGE,
                      f"code is too large to be genuine: {MAX_TEXT_CHARS + 1} characters"),
    "not a JWS": (lambda i: shc_text("abc"), Reason.MALFORMED, JWS + "(not a compact JWS)"),
    "other algorithm": (lambda i: shc_text(token({"alg": "ES384", "zip": "DEF", "kid": i.kid})), Reason.MALFORMED,
                        JWS + "(the signature algorithm is not ES256)"),
    "not deflated": (lambda i: shc_text(token({"alg": "ES256", "kid": i.kid})), Reason.MALFORMED,
                     JWS + "(the header does not say the payload is DEFLATE-compressed)"),
    "no kid": (lambda i: shc_text(token({"alg": "ES256", "zip": "DEF"})), Reason.NO_KEY_ID,
               "code names no signing key, so it cannot be checked: no kid in the JWS header"),
    "empty kid": (lambda i: shc_text(token({"alg": "ES256", "zip": "DEF", "kid": ""})), Reason.MALFORMED,
                  JWS + "(the key id is not a short string)"),
    "kid not text": (lambda i: shc_text(token({"alg": "ES256", "zip": "DEF", "kid": 5})), Reason.MALFORMED,
                     JWS + "(the key id is not a short string)"),
    "long kid": (lambda i: shc_text(token({"alg": "ES256", "zip": "DEF", "kid": "k" * 129})), Reason.MALFORMED,
                 JWS + "(the key id is not a short string)"),
    "one-letter kid": (lambda i: shc_text(token({"alg": "ES256", "zip": "DEF", "kid": "k"})), Reason.UNKNOWN_ISSUER,
                       "code signed by an unknown issuer: no SMART Health Card issuer key k"),
    "128-letter kid": (lambda i: shc_text(token({"alg": "ES256", "zip": "DEF", "kid": "k" * 128})), Reason.UNKNOWN_ISSUER,
                       "code signed by an unknown issuer: no SMART Health Card issuer key " + "k" * 128),
    "forged": (lambda i: shc_text(token({"alg": "ES256", "zip": "DEF", "kid": i.kid}, signature=b"s" * 64)),
               Reason.BAD_SIGNATURE, "code signature is invalid (forged or altered)"),
    "not health card": (lambda i: shc_text(sign_shc(i, shc_payload() | {"vc": shc_payload()["vc"] | {"type": ["x"]}})),
                        Reason.SCHEMA_INVALID,
                        "certificate content does not follow its standard's schema: vc.type lacks the health-card type"),
    "many schema errors": (lambda i: shc_text(sign_shc(i, {"nbf": "x"})), Reason.SCHEMA_INVALID,
                           "certificate content does not follow its standard's schema: iss; nbf; vc"),
    "payload not an object": (lambda i: shc_text(sign_shc(i, [1])), Reason.SCHEMA_INVALID,
                              "certificate content does not follow its standard's schema: payload"),
    "sample time without zone": (lambda i: card(i, patient(), lab_result() | {"effectiveDateTime": "2026-11-23T04:00:00"}),
                                 Reason.SCHEMA_INVALID,
                                 "certificate content does not follow its standard's schema: "
                                 "time '2026-11-23T04:00:00' has no time zone"),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_each_damage_is_refused_with_its_own_words(shc_issuer: ShcIssuer, trust: TrustList, case: str) -> None:  # noqa: F811
    make, reason, words = CASES[case]
    assert refusal(make(shc_issuer), trust)[:2] == (reason, words)


def test_the_longest_text_allowed_is_decoded(trust: TrustList) -> None:
    assert refusal("shc:/" + "0" * (MAX_TEXT_CHARS - 5), trust)[:2] == (Reason.MALFORMED, NUMERIC + "(odd number of digits)")


def test_chunks_longer_together_than_a_card_can_be_are_refused(trust: TrustList) -> None:
    per_chunk = (MAX_TEXT_CHARS - len(f"shc:/{MAX_CHUNKS}/{MAX_CHUNKS}/")) // 2
    fmt = SHC()
    for index in range(1, MAX_CHUNKS):
        refusal(f"shc:/{index}/{MAX_CHUNKS}/" + "00" * per_chunk, trust, fmt=fmt)
    reason, words, _ = refusal(f"shc:/{MAX_CHUNKS}/{MAX_CHUNKS}/" + "00" * per_chunk, trust, fmt=fmt)
    assert (reason, words) == (Reason.TOO_LARGE, f"code is too large to be genuine: {per_chunk * MAX_CHUNKS} JWS characters")
    assert per_chunk * MAX_CHUNKS > MAX_JWS_CHARS


def test_a_card_exactly_as_long_as_allowed_is_decoded(trust: TrustList) -> None:
    fmt = SHC()
    size = MAX_JWS_CHARS // MAX_CHUNKS
    for index in range(1, MAX_CHUNKS + 1):
        last = refusal(f"shc:/{index}/{MAX_CHUNKS}/" + "00" * size, trust, fmt=fmt)
    assert last[:2] == (Reason.MALFORMED, JWS + "(not a compact JWS)")


def test_a_card_from_a_key_given_for_another_issuer_is_refused(shc_issuer: ShcIssuer, trust: TrustList) -> None:  # noqa: F811
    reason, words, checks = refusal(card(shc_issuer, iss="https://elsewhere.example.net/cards"), trust)
    assert (reason, words) == (Reason.UNKNOWN_ISSUER, f"code signed by an unknown issuer: key {shc_issuer.kid} belongs to another issuer")
    assert checks == Checks(signature_valid=True, schema_valid=True)


def test_valid_from_the_clock_skew_to_the_second_before_expiry(shc_issuer: ShcIssuer, trust: TrustList) -> None:  # noqa: F811
    text = card(shc_issuer, nbf=NOW, exp=NOW + timedelta(hours=2))
    assert SHC().verify(text, trust, NOW - CLOCK_SKEW).issued_at == NOW
    assert SHC().verify(text, trust, NOW + timedelta(minutes=1)).checks.expired is False
    assert SHC().verify(text, trust, NOW + timedelta(hours=2, seconds=-1)).expires_at == NOW + timedelta(hours=2)
    early = refusal(text, trust, NOW - CLOCK_SKEW - timedelta(seconds=1))
    assert early == (Reason.NOT_YET_VALID, "code is not valid yet: issued 2026-11-23 09:00 UTC",
                     Checks(signature_valid=True, expired=True, schema_valid=True))  # fmt: skip
    late = refusal(text, trust, NOW + timedelta(hours=2))
    assert late == (Reason.EXPIRED, "code has expired: valid until 2026-11-23 11:00 UTC",
                    Checks(signature_valid=True, expired=True, schema_valid=True))  # fmt: skip


def test_the_card_is_read_as_written(shc_issuer: ShcIssuer, trust: TrustList) -> None:  # noqa: F811
    sampled = NOW - timedelta(hours=6)
    tests = [
        lab_result(sampled) | {"status": "amended"},
        lab_result(sampled - timedelta(hours=1)) | {"status": "corrected", "valueCodeableConcept": {"coding": []}},
        lab_result(sampled) | {"status": "preliminary"},
        lab_result() | {"code": {"coding": [{"system": "http://loinc.org", "code": "0000-0"}]}},
    ]
    credential = SHC().verify(card(shc_issuer, patient("Jane", "Doe"), *tests, exp=NOW + timedelta(days=1)), trust, NOW)

    assert (credential.issuer, credential.kid, credential.name) == (SHC_ISS, shc_issuer.kid, "J*** D**")
    assert credential.expires_at == NOW + timedelta(days=1)
    assert [(e.test_result, e.sampled_at) for e in credential.evidence] == [
        (credential.evidence[0].test_result, sampled), (None, sampled - timedelta(hours=1))]  # fmt: skip
    assert credential.negative_test_at == sampled
    assert credential.extra["entries"].startswith("NAA test negative, sampled 2026-11-23 03:00 UTC; NAA test result unknown")


def test_a_card_without_anything_the_gate_counts_says_so(shc_issuer: ShcIssuer, trust: TrustList) -> None:  # noqa: F811
    unnamed = patient() | {"name": []}
    credential = SHC().verify(card(shc_issuer, unnamed), trust, NOW)
    assert (credential.name, credential.extra, credential.evidence) == ("", {"entries": "none the gate counts"}, ())
    familyless = SHC().verify(card(shc_issuer, {"resourceType": "Patient", "name": [{"given": ["Jane"]}]}), trust, NOW)
    assert familyless.name == "J***"


def test_a_bare_date_counts_from_the_start_of_its_day(shc_issuer: ShcIssuer, trust: TrustList) -> None:  # noqa: F811
    credential = SHC().verify(card(shc_issuer, patient(), lab_result() | {"effectiveDateTime": "2026-11-23"}), trust, NOW)
    assert credential.evidence[0].sampled_at == datetime(2026, 11, 23, tzinfo=UTC)
    offset = SHC().verify(card(shc_issuer, patient(), lab_result() | {"effectiveDateTime": "2026-11-23T06:00:00+02:00"}),
                          trust, NOW)  # fmt: skip
    assert offset.evidence[0].sampled_at == datetime(2026, 11, 23, 4, tzinfo=UTC)
