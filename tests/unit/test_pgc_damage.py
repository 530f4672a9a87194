"""PGC1 codes damaged or forged at each layer (base45, zlib, CBOR, COSE, claims): each is refused with its own
reason and the exact words HQ staff read when diagnosing a code; the time limits hold to the second."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import base45
import cbor2
import pytest
from cbor2 import CBORTag
from cwt import COSE

from sync.core.codes import CodeError, Colour, Reason, TrustList, read_code
from sync.core.codes.keys import IssuerKey, load_issuer_key
from sync.core.codes.pgc import CLOCK_SKEW, MAX_TEXT_CHARS, PGC1, PREFIX, PRIVATE_CLAIM, issue_code

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SUBJECT = "ab" * 16


@pytest.fixture(scope="module")
def trust(hq_keys: Path) -> TrustList:
    return TrustList.from_dir(hq_keys / "trust")


@pytest.fixture(scope="module")
def issuer(hq_keys: Path) -> IssuerKey:
    return load_issuer_key(hq_keys)


def wrap(raw: bytes) -> str:
    return PREFIX + base45.b45encode(zlib.compress(raw)).decode()


def cose(protected: Any, payload: Any = b"", signature: Any = b"sig", unprotected: Any = None) -> str:
    """A COSE_Sign1 of any shape (not signed)."""
    return wrap(cbor2.dumps(CBORTag(18, [protected, {} if unprotected is None else unprotected, payload, signature])))


def claims(
    iat: datetime = NOW - timedelta(hours=1), exp: datetime = NOW + timedelta(hours=23), changes: dict[Any, Any] | None = None
) -> dict[Any, Any]:
    raw: dict[Any, Any] = {1: "district", 2: SUBJECT, 4: int(exp.timestamp()), 6: int(iat.timestamp()),
                           PRIVATE_CLAIM: {1: "Z**** S**", 2: "green"}}  # fmt: skip
    return raw | (changes or {})


def signed(issuer: IssuerKey, payload: Any, protected: dict[int, Any] | None = None) -> str:
    """Claims (or any bytes) signed by the trusted issuer, exactly as `issue_code` signs."""
    data = payload if isinstance(payload, bytes) else cbor2.dumps(payload)
    header = protected if protected is not None else {1: issuer.alg, 4: issuer.kid}
    return wrap(COSE.new().encode_and_sign(data, issuer.cose_key, protected=header))


def refusal(text: str, trust: TrustList, at: datetime = NOW) -> tuple[Reason, str]:
    with pytest.raises(CodeError) as caught:
        read_code(text, trust, at)
    return caught.value.reason, str(caught.value)


MALFORMED = "code is damaged or malformed: "
CASES: dict[str, tuple[Callable[[IssuerKey], str], Reason, str]] = {
    "not base45": (lambda k: PREFIX + "lower case", Reason.MALFORMED, MALFORMED + "not valid base45"),
    "not zlib": (lambda k: PREFIX + base45.b45encode(b"plain").decode(), Reason.MALFORMED,
                 MALFORMED + "zlib decompression failed (the stream is damaged)"),
    "not CBOR": (lambda k: wrap(b"\x1c"), Reason.MALFORMED, MALFORMED + "signed message is not valid CBOR"),
    "not tagged": (lambda k: wrap(cbor2.dumps([b"", {}, b"", b""])), Reason.MALFORMED, MALFORMED + "not a COSE_Sign1 message"),
    "another tag": (lambda k: wrap(cbor2.dumps(CBORTag(98, [b"", {}, b"", b""]))), Reason.MALFORMED,
                    MALFORMED + "not a COSE_Sign1 message"),
    "three parts": (lambda k: wrap(cbor2.dumps(CBORTag(18, [b"", {}, b""]))), Reason.MALFORMED,
                    MALFORMED + "COSE_Sign1 has the wrong shape"),
    "not a list": (lambda k: wrap(cbor2.dumps(CBORTag(18, b"abcd"))), Reason.MALFORMED,
                   MALFORMED + "COSE_Sign1 has the wrong shape"),
    "header not bytes": (lambda k: cose(1), Reason.MALFORMED, MALFORMED + "COSE_Sign1 has the wrong shape"),
    "header not CBOR": (lambda k: cose(b"\x1c"), Reason.MALFORMED, MALFORMED + "protected header is not valid CBOR"),
    "header empty": (lambda k: cose(b""), Reason.MALFORMED, MALFORMED + "unsupported signature algorithm"),
    "header not a map": (lambda k: cose(cbor2.dumps([1])), Reason.MALFORMED, MALFORMED + "protected header is not a map"),
    "other algorithm": (lambda k: cose(cbor2.dumps({1: -35, 4: k.kid})), Reason.MALFORMED,
                        MALFORMED + "unsupported signature algorithm"),
    "algorithm a list": (lambda k: cose(cbor2.dumps({1: [], 4: k.kid})), Reason.MALFORMED,
                         MALFORMED + "unsupported signature algorithm"),
    "no key id": (lambda k: cose(cbor2.dumps({1: k.alg})), Reason.MALFORMED, MALFORMED + "no key id in the protected header"),
    "key id not bytes": (lambda k: cose(cbor2.dumps({1: k.alg, 4: k.kid.hex()})), Reason.MALFORMED,
                         MALFORMED + "no key id in the protected header"),
    "unknown key": (lambda k: cose(cbor2.dumps({1: k.alg, 4: bytes(range(8))})), Reason.UNKNOWN_ISSUER,
                    "code signed by an unknown issuer: key id 0001020304050607"),
    "algorithm not the key's": (lambda k: cose(cbor2.dumps({1: -7 if k.alg == -8 else -8, 4: k.kid})), Reason.BAD_SIGNATURE,
                                "code signature is invalid (forged or altered): algorithm does not match the issuer's key"),
    "bad signature": (lambda k: cose(cbor2.dumps({1: k.alg, 4: k.kid}), b"payload"), Reason.BAD_SIGNATURE,
                      "code signature is invalid (forged or altered)"),
    "no payload": (lambda k: cose(cbor2.dumps({1: k.alg, 4: k.kid}), None), Reason.MALFORMED,
                   MALFORMED + "signed message cannot be verified"),
    "claims not CBOR": (lambda k: signed(k, b"\x1c"), Reason.MALFORMED, MALFORMED + "claims is not valid CBOR"),
    "claims not a map": (lambda k: signed(k, [1]), Reason.MALFORMED, MALFORMED + "claims is not a map"),
    "unknown claim": (lambda k: signed(k, claims(changes={99: 1})), Reason.MALFORMED, MALFORMED + "claims has unknown keys"),
    "no private claim": (lambda k: signed(k, {1: "d", 2: SUBJECT, 4: 2, 6: 1}), Reason.MALFORMED,
                         MALFORMED + "private claim is not a map"),
    "unknown detail": (lambda k: signed(k, claims(changes={PRIVATE_CLAIM: {1: "x", 2: "red", 9: 1}})), Reason.MALFORMED,
                       MALFORMED + "private claim has unknown keys"),
    "bad claims": (lambda k: signed(k, claims(changes={1: 5, 2: "not hex", PRIVATE_CLAIM: {1: "x", 2: "blue"}})),
                   Reason.MALFORMED, MALFORMED + "bad claims: iss, sub, details.colour"),
    "expires as issued": (lambda k: signed(k, claims(exp=NOW - timedelta(hours=1))), Reason.MALFORMED,
                          MALFORMED + "expires before it was issued"),
    "too long": (lambda k: PREFIX + "0" * (MAX_TEXT_CHARS - len(PREFIX) + 1), Reason.TOO_LARGE,
                 f"code is too large to be genuine: {MAX_TEXT_CHARS + 1} characters"),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_each_damage_is_refused_with_its_own_words(issuer: IssuerKey, trust: TrustList, case: str) -> None:
    make, reason, words = CASES[case]
    assert refusal(make(issuer), trust) == (reason, words)


def test_the_longest_text_allowed_is_decoded() -> None:
    text = PREFIX + "0" * (MAX_TEXT_CHARS - len(PREFIX))
    with pytest.raises(CodeError) as caught:
        read_code(text, TrustList(), NOW)
    assert caught.value.reason is Reason.MALFORMED


def test_a_text_without_the_prefix_is_not_ours() -> None:
    with pytest.raises(CodeError) as caught:
        PGC1().verify("PGC2:ABC", TrustList(), NOW)
    assert (caught.value.reason, str(caught.value)) == (Reason.NOT_OURS, "not a health code this gate reads")


def test_valid_from_the_clock_skew_to_the_second_before_expiry(issuer: IssuerKey, trust: TrustList) -> None:
    text = signed(issuer, claims(iat=NOW, exp=NOW + timedelta(hours=2)))

    assert read_code(text, trust, NOW - CLOCK_SKEW).issued_at == NOW
    assert refusal(text, trust, NOW - CLOCK_SKEW - timedelta(seconds=1)) == (
        Reason.NOT_YET_VALID, "code is not valid yet: issued 2026-11-23 09:00 UTC")  # fmt: skip
    assert read_code(text, trust, NOW + timedelta(hours=2, microseconds=999_999)).colour is Colour.GREEN  # through exp's second
    assert refusal(text, trust, NOW + timedelta(hours=2, seconds=1)) == (
        Reason.EXPIRED, "code has expired: valid until 2026-11-23 11:00 UTC")  # fmt: skip


def test_a_code_lasting_one_second_is_well_formed(issuer: IssuerKey, trust: TrustList) -> None:
    text = signed(issuer, claims(iat=NOW, exp=NOW + timedelta(seconds=1)))
    assert read_code(text, trust, NOW).expires_at == NOW + timedelta(seconds=1)


def test_the_credential_names_its_issuer_and_key(issuer: IssuerKey, trust: TrustList) -> None:
    text = issue_code(
        issuer, issuer="district-7", subject=SUBJECT, name="L* S*", colour=Colour.RED,
        issued_at=NOW - timedelta(hours=1), expires_at=NOW + timedelta(hours=1),
    )  # fmt: skip
    credential = read_code(text, trust, NOW)
    assert (credential.issuer, credential.kid, credential.name) == ("district-7", issuer.kid.hex(), "L* S*")
    assert (credential.negative_test_at, credential.travel_risk) == (None, None)
    assert credential.checks.signature_valid is True and credential.checks.expired is False
