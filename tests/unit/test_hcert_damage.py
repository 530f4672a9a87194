"""EU DCCs damaged or forged at each layer are refused with their own reason, the decoding step that found it,
and how far verification got (`checks`); the time limits of the certificate and its signer hold to the second."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import cbor2
import pytest
from cwt import COSE

from sync.core.codes import Checks, CodeError, Reason, TrustList, read_code
from sync.core.codes.hcert import CLOCK_SKEW, HC1, MAX_EPOCH, MAX_TEXT_CHARS
from tests.standards_certs import (
    NOW,
    Csca,
    DocumentSignerKeys,
    dcc_payload,
    dcc_test_entry,
    hc1,
    issue_dcc,
    make_dsc,
    sign_dcc,
)
from tests.standards_fixtures import csca, dsc, dsc_list  # noqa: F401 - fixtures

SIGNED = Checks(signature_valid=True)
SCHEMA = Checks(signature_valid=True, expired=False, key_usage_ok=True, schema_valid=False)
COSE_STEP = "code is damaged or malformed: COSE decoding failed "
CLAIMS_STEP = "code is damaged or malformed: CWT claims decoding failed "


@pytest.fixture(scope="module")
def trust(dsc: DocumentSignerKeys) -> TrustList:  # noqa: F811
    trust = TrustList()
    trust.add_document(dsc_list(dsc), "dsc.pem")
    return trust


def sign1(*parts: Any) -> str:
    return hc1(cbor2.dumps(parts[0] if len(parts) == 1 else list(parts)))


def raw_signed(dsc: DocumentSignerKeys, payload: bytes) -> str:  # noqa: F811
    return hc1(COSE.new().encode_and_sign(payload, dsc.cose_key(), protected={1: dsc.alg, 4: dsc.kid}))


def claims(iat: Any = int((NOW - timedelta(hours=4)).timestamp()), exp: Any = int((NOW + timedelta(days=2)).timestamp()),
           **extra: Any) -> dict[int, Any]:
    return {1: "XA", 6: iat, 4: exp, -260: {1: dcc_payload()}} | {int(k.removeprefix("c")): v for k, v in extra.items()}  # fmt: skip


def refusal(text: str, trust: TrustList, at: Any = NOW) -> tuple[Reason, str, Checks]:
    with pytest.raises(CodeError) as caught:
        read_code(text, trust, at)
    return caught.value.reason, str(caught.value), caught.value.checks


CASES: dict[str, tuple[Callable[[DocumentSignerKeys], str], Reason, str, Checks]] = {
    "not base45": (lambda d: "HC1:lower case", Reason.MALFORMED,
                   "code is damaged or malformed: base45 decoding failed (the text after HC1: is not base45)", Checks()),
    "not CBOR": (lambda d: hc1(b"\x1c"), Reason.MALFORMED, COSE_STEP + "(the message is not valid CBOR)", Checks()),
    "not COSE": (lambda d: sign1("text"), Reason.MALFORMED, COSE_STEP + "(not a COSE_Sign1 message)", Checks()),
    "three parts": (lambda d: sign1(b"", {}, b""), Reason.MALFORMED, COSE_STEP + "(COSE_Sign1 has the wrong shape)", Checks()),
    "header not CBOR": (lambda d: sign1(b"\x1c", {}, b"", b""), Reason.MALFORMED,
                        COSE_STEP + "(the protected header is not valid CBOR)", Checks()),
    "header empty": (lambda d: sign1(b"", {4: d.kid}, b"", b""), Reason.MALFORMED,
                     COSE_STEP + "(the protected header's algorithm is not ES256 or PS256)", Checks()),
    "algorithm a list": (lambda d: sign1(cbor2.dumps({1: []}), {}, b"", b""), Reason.MALFORMED,
                         COSE_STEP + "(the protected header's algorithm is not ES256 or PS256)", Checks()),
    "header not a map": (lambda d: sign1(cbor2.dumps([1]), {}, b"", b""), Reason.MALFORMED,
                         COSE_STEP + "(the protected header is not a map)", Checks()),
    "no key id": (lambda d: sign1(cbor2.dumps({1: -7}), {}, b"", b""), Reason.NO_KEY_ID,
                  "code names no signing key, so it cannot be checked: no kid in the protected or unprotected header",
                  Checks()),
    "empty key id": (lambda d: sign1(cbor2.dumps({1: -7, 4: b""}), {}, b"", b""), Reason.MALFORMED,
                     COSE_STEP + "(the key id is not a short byte string)", Checks()),
    "long key id": (lambda d: sign1(cbor2.dumps({1: -7, 4: b"k" * 65}), {}, b"", b""), Reason.MALFORMED,
                    COSE_STEP + "(the key id is not a short byte string)", Checks()),
    "key id not bytes": (lambda d: sign1(cbor2.dumps({1: -7}), {4: "kid"}, b"", b""), Reason.MALFORMED,
                         COSE_STEP + "(the key id is not a short byte string)", Checks()),
    "one-byte key id": (lambda d: sign1(cbor2.dumps({1: -7, 4: b"k"}), {}, b"", b""), Reason.UNKNOWN_ISSUER,
                        "code signed by an unknown issuer: no document signer with key id 6b", Checks()),
    "64-byte key id": (lambda d: sign1(cbor2.dumps({1: -7, 4: b"k" * 64}), {}, b"", b""), Reason.UNKNOWN_ISSUER,
                       "code signed by an unknown issuer: no document signer with key id " + "6b" * 64, Checks()),
    "payload not CBOR": (lambda d: raw_signed(d, b"\x1c"), Reason.MALFORMED,
                         CLAIMS_STEP + "(the payload is not valid CBOR)", SIGNED),
    "claims not a map": (lambda d: hc1(sign_dcc(d, None, claims=[1])), Reason.MALFORMED,  # type: ignore[arg-type]
                         CLAIMS_STEP + "(the claims are not a map)", SIGNED),
    "no iat": (lambda d: hc1(sign_dcc(d, None, claims=claims(iat=None))), Reason.MALFORMED,
               CLAIMS_STEP + "(claim iat is missing or not a time)", SIGNED),
    "iat true": (lambda d: hc1(sign_dcc(d, None, claims=claims(iat=True))), Reason.MALFORMED,
                 CLAIMS_STEP + "(claim iat is missing or not a time)", SIGNED),
    "iat negative": (lambda d: hc1(sign_dcc(d, None, claims=claims(iat=-1))), Reason.MALFORMED,
                     CLAIMS_STEP + "(claim iat is missing or not a time)", SIGNED),
    "exp too far": (lambda d: hc1(sign_dcc(d, None, claims=claims(exp=MAX_EPOCH))), Reason.MALFORMED,
                    CLAIMS_STEP + "(claim exp is missing or not a time)", SIGNED),
    "iss not text": (lambda d: hc1(sign_dcc(d, None, claims=claims(c1=5))), Reason.MALFORMED,
                     CLAIMS_STEP + "(claim iss is not text)", SIGNED),
    "no hcert": (lambda d: hc1(sign_dcc(d, None, claims=claims(**{"c-260": None}))), Reason.SCHEMA_INVALID,
                 "certificate content does not follow its standard's schema: no EU DCC under the hcert claim",
                 Checks(True, schema_valid=False)),
    "hcert not a map": (lambda d: hc1(sign_dcc(d, None, claims=claims(**{"c-260": [1]}))), Reason.SCHEMA_INVALID,
                        "certificate content does not follow its standard's schema: no EU DCC under the hcert claim",
                        Checks(True, schema_valid=False)),
    "two entries": (lambda d: issue_dcc(d, dcc_payload("t", [dcc_test_entry(), dcc_test_entry()])), Reason.MULTIPLE_ENTRIES,
                    "certificate holds more than one entry (the standard allows one): 2 entries in t", SCHEMA),
    "two groups": (lambda d: issue_dcc(d, dcc_payload("t", v=[dcc_test_entry()])), Reason.MULTIPLE_ENTRIES,
                   "certificate holds more than one entry (the standard allows one): 2 entries in v, t",
                   Checks(signature_valid=True, expired=False, key_usage_ok=None, schema_valid=False)),
    "entries not a list": (lambda d: issue_dcc(d, dcc_payload("t", {})), Reason.SCHEMA_INVALID,  # type: ignore[arg-type]
                           "certificate content does not follow its standard's schema: t: type", SCHEMA),
    "many schema errors": (lambda d: issue_dcc(d, dcc_payload("t", [{}], dob=5, ver=7)), Reason.SCHEMA_INVALID,
                           "certificate content does not follow its standard's schema: dob: type; t/0: required; "
                           "t/0: required", SCHEMA),
    "no name": (lambda d: issue_dcc(d, {k: v for k, v in dcc_payload().items() if k != "nam"}), Reason.SCHEMA_INVALID,
                "certificate content does not follow its standard's schema: certificate: required", SCHEMA),
    "too long": (lambda d: "HC1:" + "0" * (MAX_TEXT_CHARS - 3), Reason.TOO_LARGE,
                 f"code is too large to be genuine: {MAX_TEXT_CHARS + 1} characters", Checks()),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_each_damage_is_refused_with_its_step_and_checks(dsc: DocumentSignerKeys, trust: TrustList, case: str) -> None:  # noqa: F811
    make, reason, words, checks = CASES[case]
    assert refusal(make(dsc), trust) == (reason, words, checks)


def test_the_longest_text_allowed_is_decoded(trust: TrustList) -> None:
    assert refusal("HC1:" + "0" * (MAX_TEXT_CHARS - 4), trust)[0] is Reason.MALFORMED


def test_a_text_without_the_prefix_is_not_ours(trust: TrustList) -> None:
    with pytest.raises(CodeError) as caught:
        HC1().verify("HC2:X", trust, NOW)
    assert caught.value.reason is Reason.NOT_OURS


def test_times_at_the_epoch_and_just_inside_the_limit_are_read(dsc: DocumentSignerKeys, trust: TrustList) -> None:  # noqa: F811
    early = refusal(hc1(sign_dcc(dsc, None, claims=claims(iat=0))), trust)  # read, and long before its signer
    assert early[0] is Reason.SIGNER_EXPIRED
    late = hc1(sign_dcc(dsc, None, claims=claims(exp=MAX_EPOCH - 1)))
    assert read_code(late, trust, NOW).expires_at.timestamp() == MAX_EPOCH - 1


def test_valid_from_the_clock_skew_to_the_second_before_expiry(dsc: DocumentSignerKeys, trust: TrustList) -> None:  # noqa: F811
    text = issue_dcc(dsc, iat=NOW, exp=NOW + timedelta(hours=2))

    assert read_code(text, trust, NOW - CLOCK_SKEW).issued_at == NOW
    assert read_code(text, trust, NOW + timedelta(minutes=1)).issued_at == NOW
    assert refusal(text, trust, NOW - CLOCK_SKEW - timedelta(seconds=1))[:2] == (
        Reason.NOT_YET_VALID, "code is not valid yet: issued 2026-11-23 09:00 UTC")  # fmt: skip
    assert read_code(text, trust, NOW + timedelta(hours=2, microseconds=999_999)).expires_at == NOW + timedelta(hours=2)
    reason, words, checks = refusal(text, trust, NOW + timedelta(hours=2, seconds=1))
    assert (reason, words) == (Reason.EXPIRED, "code has expired: valid until 2026-11-23 11:00 UTC")
    assert checks == Checks(signature_valid=True, expired=True, key_usage_ok=True, schema_valid=True)


def test_a_certificate_may_be_issued_up_to_the_clock_skew_before_its_signer_starts(csca: Csca) -> None:  # noqa: F811
    starts = NOW - timedelta(days=1)
    signer = make_dsc(csca, not_before=starts, common_name="DSC new")
    trust = TrustList()
    trust.add_document(signer.pem(), "new.pem")
    payload = dcc_payload("t", [dcc_test_entry(NOW - timedelta(hours=2))])

    assert read_code(issue_dcc(signer, payload, iat=starts - CLOCK_SKEW), trust, NOW).format == "HC1"
    assert read_code(issue_dcc(signer, payload, iat=starts - timedelta(minutes=1)), trust, NOW).format == "HC1"
    reason, words, checks = refusal(issue_dcc(signer, payload, iat=starts - CLOCK_SKEW - timedelta(seconds=1)), trust)
    assert reason is Reason.SIGNER_EXPIRED and words.endswith(f"signer valid {starts:%Y-%m-%d} to 2027-05-22")
    assert checks.expired is True


def test_the_credential_says_who_issued_it_and_what_it_holds(dsc: DocumentSignerKeys, trust: TrustList) -> None:  # noqa: F811
    credential = read_code(issue_dcc(dsc), trust, NOW)
    assert credential.issuer == "Ministry of Health XA (XA)"
    assert credential.extra == {
        "certificate": "test", "country": "XA", "signer": "CN=DSC 1,C=XA",
        "entries": "NAA test negative, sampled 2026-11-23 04:00 UTC",
    }  # fmt: skip
    assert credential.expires_at == NOW + timedelta(days=2) - timedelta(microseconds=NOW.microsecond)
    without_iss = {6: int((NOW - timedelta(hours=1)).timestamp()), 4: int((NOW + timedelta(hours=1)).timestamp()),
                   -260: {1: dcc_payload(nam={"fnt": "MUSTER<FRAU", "gnt": "ERIKA<MARIA"})}}  # fmt: skip
    plain = read_code(hc1(sign_dcc(dsc, None, claims=without_iss)), trust, NOW)
    assert plain.issuer == "Ministry of Health XA"
    assert plain.name == "E**** M**** M***** F***"
