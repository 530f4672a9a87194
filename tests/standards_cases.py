"""Every result class of the standard-certificate tests, written once: each case makes the QR texts of a
certificate from the test authorities (`tests.standards_fixtures.Cast`) and says what verifying them must give.

The unit tests (tests/unit/test_hcert.py, test_shc.py) verify the texts through the code registry; the frame tests
(tests/functional/test_standards_frames.py) render the same texts as camera frames, read them back with the real
scanner and run them through `pocket-kiosk check --image`. Every case is judged at NOW, against the `trust`
fixture's documents (`Cast.trusted_dsc_list`, `issuer_jwks`).

A failing case names the words its error text must hold: for the decoding steps, which all fail as
Reason.MALFORMED, the step that failed ('base45 decoding failed', 'zlib decompression failed', 'COSE decoding
failed', ...), so a mix-up between them fails the test. A good case names the summary of what the certificate
attests (`Credential.extra["entries"]`).
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta

import base45
import cbor2
import pytest
from cbor2 import CBORTag

from kiosk.codes import CodeError, Credential, Reason, TrustList, read_code
from kiosk.codes.base import Checks
from kiosk.codes.shc import SHC
from tests.standards_certs import (
    DETECTED,
    LAST_DOSE,
    NOW,
    RAPID,
    RECOVERY_FROM,
    RECOVERY_UNTIL,
    DocumentSignerKeys,
    dcc_payload,
    dcc_test_entry,
    deflate,
    hc1,
    immunization,
    issue_dcc,
    issue_shc,
    lab_result,
    patient,
    recovery_entry,
    shc_chunks,
    shc_payload,
    shc_text,
    sign_dcc,
    sign_shc,
    vaccination_entry,
)
from tests.standards_fixtures import Cast

ALL_PASSED = Checks(signature_valid=True, expired=False, key_usage_ok=True, schema_valid=True)
SHC_PASSED = Checks(signature_valid=True, expired=False, schema_valid=True)
"""A SMART Health Card has no key usages to check."""
FORGED = Checks(signature_valid=False)
SAMPLED = f"NAA test negative, sampled {NOW - timedelta(hours=5):%Y-%m-%d %H:%M} UTC"
"""The default test entry (`dcc_test_entry`, `lab_result`): a negative NAA test five hours before NOW."""


@dataclass(frozen=True)
class Case:
    """One certificate (or chunked card) and what verifying it at NOW must give."""

    name: str
    make: Callable[[Cast], list[str]]
    """The texts a visitor shows one after another: one, or the parts of a chunked card."""
    reason: Reason | None
    """What the last text fails with; None when it verifies."""
    says: str | Callable[[Cast], str]
    """Words the error text must hold, or a good case's summary of entries."""
    checks: Checks | None = None
    """Each verification step's outcome, where the case pins them all."""
    steps: dict[str, bool | None] | None = None
    """Some steps' outcomes (by `Checks` field), where the case pins only those."""

    def param(self) -> object:
        return pytest.param(self, id=self.name)

    def words(self, cast: Cast) -> str:
        return self.says(cast) if callable(self.says) else self.says


def one(make: Callable[[Cast], str]) -> Callable[[Cast], list[str]]:
    return lambda cast: [make(cast)]


def present(texts: list[str], trust: TrustList) -> Credential:
    """Verify the texts one after another at NOW, as a keeper holds up each part: every part before the last
    must ask for the next. A chunked card goes to a format of its own, so no other test's parts mix in."""
    if len(texts) == 1:
        return read_code(texts[0], trust, NOW)
    fmt = SHC()
    for number, text in enumerate(texts[:-1], start=1):
        with pytest.raises(CodeError) as caught:
            fmt.verify(text, trust, NOW)
        assert caught.value.reason is Reason.INCOMPLETE
        assert f"{number} of {len(texts)} parts read" in str(caught.value)
    return fmt.verify(texts[-1], trust, NOW)


def assert_outcome(case: Case, cast: Cast, texts: list[str], trust: TrustList) -> None:
    """Verify the case's texts (made by the case, or read back from its frames) and hold the outcome to it."""
    if case.reason is None:
        credential = present(texts, trust)
        assert credential.extra["entries"] == case.words(cast)
        assert credential.checks == (case.checks or ALL_PASSED)
        return
    with pytest.raises(CodeError) as caught:
        present(texts, trust)
    error = caught.value
    assert error.reason is case.reason, str(error)
    assert case.words(cast) in str(error), str(error)
    if case.checks is not None:
        assert error.checks == case.checks
    for step, outcome in (case.steps or {}).items():
        assert getattr(error.checks, step) is outcome, step


def assert_record(case: Case, cast: Cast, record: dict[str, object]) -> None:
    """Hold one line of `pocket-kiosk check --json` to the case: the error's name and text, and each check."""
    steps = {key: record[key] for key in ("signature_valid", "expired", "key_usage_ok", "schema_valid")}
    if case.reason is None:
        assert record["error"] is None, record["reasons"]
        assert record["credential"]["entries"] == case.words(cast)  # type: ignore[index]
        assert steps == asdict(case.checks or ALL_PASSED)
        return
    assert record["error"] == case.reason.name.lower()
    assert record["verdict"] == "refuse"
    assert case.words(cast) in record["reasons"][0], record["reasons"]  # type: ignore[index]
    if case.checks is not None:
        assert steps == asdict(case.checks)
    for step, outcome in (case.steps or {}).items():
        assert steps[step] is outcome, step


# -- EU DCC ------------------------------------------------------------------------------------------------


def unwrap(text: str) -> CBORTag:
    """The COSE_Sign1 message of an HC1 text, to alter and wrap again."""
    return cbor2.loads(zlib.decompress(base45.b45decode(text[4:])))


def _flipped_signature(signer: DocumentSignerKeys) -> str:
    message = unwrap(issue_dcc(signer))
    signature = bytearray(message.value[3])
    signature[5] ^= 0x40
    message.value[3] = bytes(signature)
    return hc1(cbor2.dumps(message))


def _altered_result(signer: DocumentSignerKeys) -> str:
    """A positive test turned negative under the original signature."""
    message = unwrap(issue_dcc(signer, dcc_payload("t", [dcc_test_entry(tr=DETECTED)])))
    claims = cbor2.loads(message.value[2])
    claims[-260][1]["t"][0]["tr"] = "260415000"
    message.value[2] = cbor2.dumps(claims)
    return hc1(cbor2.dumps(message))


def _under_kid(signer: DocumentSignerKeys, kid_of: DocumentSignerKeys, alg: int = -7) -> str:
    """Signed by `signer`, but the protected header names `kid_of`'s key (and `alg`)."""
    message = unwrap(issue_dcc(signer))
    message.value[0] = cbor2.dumps({1: alg, 4: kid_of.kid})
    return hc1(cbor2.dumps(message))


def _unprotected_kid(signer: DocumentSignerKeys, kid_of: DocumentSignerKeys) -> str:
    """Signed by `signer` with its kid in the protected header; the unprotected header names `kid_of`'s."""
    message = unwrap(issue_dcc(signer))
    message.value[1] = {4: kid_of.kid}
    return hc1(cbor2.dumps(message))


def _claims(signer: DocumentSignerKeys, claims: object) -> str:
    return hc1(sign_dcc(signer, None, claims=claims))  # type: ignore[arg-type]


def _b45(data: bytes) -> str:
    return "HC1:" + base45.b45encode(data).decode()


def _signer_validity(cast: Cast) -> str:
    certificate = cast.dsc_expired.certificate
    return f"signer valid {certificate.not_valid_before_utc:%Y-%m-%d} to {certificate.not_valid_after_utc:%Y-%m-%d}"


BAD_COSE = {
    "not CBOR": b"\x1c",
    "truncated CBOR": b"\xa1",
    "a stray break code": b"\xff\x00garbage",
    "a CBOR map": cbor2.dumps({"not": "cose"}),
    "tag 17": cbor2.dumps(CBORTag(17, [b"", {}, b"", b""])),
    "three parts": cbor2.dumps(CBORTag(18, [b"", {}, b""])),
    "text header": cbor2.dumps(CBORTag(18, ["text", {}, b"", b""])),
    "list header": cbor2.dumps(CBORTag(18, [cbor2.dumps({1: -7, 4: b"12345678"}), [], b"", b""])),
}
SCHEMA_VIOLATIONS = {
    "no dob": ({k: v for k, v in dcc_payload().items() if k != "dob"}, "certificate: required"),
    "no standardised name": (dcc_payload(nam={"fn": "Muster"}), "nam: anyOf"),
    "lower-case standardised name": (dcc_payload(nam={"fnt": "muster"}), "nam/fnt: pattern"),
    "born 1850": (dcc_payload(dob="1850-01-01"), "dob: pattern"),
    "version 1.3": (dcc_payload(ver="1.3"), "ver: pattern"),
    "dose 0": (dcc_payload("v", [vaccination_entry(dn=0)]), "v/0/dn: minimum"),
    "no product": (dcc_payload("v", [{k: v for k, v in vaccination_entry().items() if k != "mp"}]), "v/0: required"),
    "sample time in words": (dcc_payload("t", [dcc_test_entry() | {"sc": "yesterday"}]), "t/0/sc: format"),
    "sample time without zone": (
        dcc_payload("t", [dcc_test_entry() | {"sc": "2026-11-23T04:00:00"}]),
        "t/0/sc: format",
    ),
    "no such date": (dcc_payload("r", [recovery_entry() | {"du": "2026-13-45"}]), "r/0/du: format"),
    "empty test group": (dcc_payload("t", []), "t: minItems"),
    "no entry": ({k: v for k, v in dcc_payload().items() if k != "t"}, "certificate: oneOf"),
    "name too long": (dcc_payload(nam={"fnt": "X" * 81}), "nam/fnt: maxLength"),
    "byte string": (dcc_payload("t", [dcc_test_entry() | {"co": b"XA"}]), "bytes is not a JSON value"),
    "number for a code": (dcc_payload("t", [dcc_test_entry() | {"tr": 260415000}]), "t/0/tr: type"),
}
MALFORMED_CLAIMS = {
    "beyond the year 9999": {1: "XA", 6: 2**39, 4: 2**39 + 10, -260: {1: {}}},
    "a list": [1, 2, 3],
    "no iat": {1: "XA", 4: int(NOW.timestamp()) + 60, -260: {1: {}}},
    "iss a number": {1: 5, 6: 1, 4: 2, -260: {1: {}}},
    "iat in words": {6: "x", 4: 1},
}
MULTI_ENTRY = {
    "two tests": (dcc_payload("t", [dcc_test_entry(), dcc_test_entry()]), "2 entries in t"),
    "two doses": (dcc_payload("v", [vaccination_entry(dn=1), vaccination_entry(dn=2)]), "2 entries in v"),
    "test and vaccination": (dcc_payload("t", t=[dcc_test_entry()], v=[vaccination_entry()]), "2 entries in v, t"),
}
NOT_A_DCC = {1: "XA", 6: int(NOW.timestamp()) - 3600, 4: int(NOW.timestamp()) + 3600, -260: {2: {}}}
"""Valid CWT claims whose hcert claim holds something under another key than the EU DCC's."""
SIGNED_BAD_SCHEMA: dict[str, bool | None] = {"signature_valid": True, "schema_valid": False}

HC1_CASES = [
    # EXPECTEDVALIDOBJECT
    Case("good NAA test", one(lambda c: issue_dcc(c.dsc)), None, SAMPLED),
    Case("good PS256", one(lambda c: issue_dcc(c.dsc_rsa)), None, SAMPLED),
    Case("good kid in the unprotected header", one(lambda c: issue_dcc(c.dsc, kid_in="unprotected")), None, SAMPLED),
    Case(
        "good: the protected kid wins over another one in the unprotected header (hcert 3.2.3)",
        one(lambda c: _unprotected_kid(c.dsc, c.dsc_rsa)),
        None,
        SAMPLED,
    ),
    Case("good at the very second of its exp (hcert 3.2.5)", one(lambda c: issue_dcc(c.dsc, exp=NOW)), None, SAMPLED),
    Case("good untagged COSE", one(lambda c: hc1(cbor2.dumps(unwrap(issue_dcc(c.dsc)).value))), None, SAMPLED),
    Case("good CWT-tagged COSE", one(lambda c: hc1(cbor2.dumps(CBORTag(61, unwrap(issue_dcc(c.dsc)))))), None, SAMPLED),
    Case(
        "good vaccination",
        one(lambda c: issue_dcc(c.dsc, dcc_payload("v", [vaccination_entry(dn=1, sd=2)]))),
        None,
        f"vaccination dose 1 of 2 on {LAST_DOSE}",
    ),
    Case(
        "good recovery",
        one(lambda c: issue_dcc(c.dsc, dcc_payload("r"))),
        None,
        f"recovery, valid {RECOVERY_FROM} to {RECOVERY_UNTIL}",
    ),
    Case(
        "good rapid test",
        one(lambda c: issue_dcc(c.dsc, dcc_payload("t", [dcc_test_entry(tt=RAPID)]))),
        None,
        f"rapid antigen test negative, sampled {NOW - timedelta(hours=5):%Y-%m-%d %H:%M} UTC",
    ),
    Case("good from a test-only signer", one(lambda c: issue_dcc(c.dsc_test_only)), None, SAMPLED),
    # EXPECTEDUNPREFIX
    *(
        Case(
            f"wrong prefix {prefix}",
            one(lambda c, prefix=prefix: prefix + issue_dcc(c.dsc)[4:]),
            Reason.NOT_OURS,
            Reason.NOT_OURS.value,
            Checks(),
        )
        for prefix in ("HC2:", "hc1:", "HC1", "XHC1:")
    ),
    # EXPECTEDB45DECODE
    *(
        Case(f"bad base45 {body}", one(lambda c, body=body: "HC1:" + body), Reason.MALFORMED, "base45 decoding failed")
        for body in ("GGW", "A", "hello world", "::::")
    ),
    # EXPECTEDCOMPRESSION
    Case(
        "bad compression: valid base45, no zlib stream",
        one(lambda c: "HC1:ABC"),
        Reason.MALFORMED,
        "zlib decompression failed (the stream is damaged)",
        Checks(),
    ),
    Case(
        "bad compression: not compressed",
        one(lambda c: _b45(sign_dcc(c.dsc, dcc_payload()))),
        Reason.MALFORMED,
        "zlib decompression failed (the stream is damaged)",
    ),
    Case(
        "bad compression: truncated",
        one(lambda c: _b45(zlib.compress(sign_dcc(c.dsc, dcc_payload()))[:-6])),
        Reason.MALFORMED,
        "zlib decompression failed (the stream is truncated)",
    ),
    Case(
        "bad compression: trailing data",
        one(lambda c: _b45(zlib.compress(sign_dcc(c.dsc, dcc_payload())) + b"junk")),
        Reason.MALFORMED,
        "zlib decompression failed (data after the end of the stream)",
    ),
    # EXPECTEDDECODE
    *(
        Case(f"bad COSE: {what}", one(lambda c, m=message: hc1(m)), Reason.MALFORMED, "COSE decoding failed", Checks())
        for what, message in BAD_COSE.items()
    ),
    Case(
        "bad COSE: EdDSA",
        one(lambda c: _under_kid(c.dsc, c.dsc, alg=-8)),
        Reason.MALFORMED,
        "COSE decoding failed (the protected header's algorithm is not ES256 or PS256)",
    ),
    # EXPECTEDVERIFY
    Case(
        "bad signature",
        one(lambda c: _flipped_signature(c.dsc)),
        Reason.BAD_SIGNATURE,
        Reason.BAD_SIGNATURE.value,
        FORGED,
    ),
    Case("bad signature: altered result", one(lambda c: _altered_result(c.dsc)), Reason.BAD_SIGNATURE, "forged"),
    Case(
        "bad signature: another key under a trusted kid",
        one(lambda c: _under_kid(c.dsc_untrusted, c.dsc)),
        Reason.BAD_SIGNATURE,
        "forged",
    ),
    Case(
        "bad signature: PS256 named for an EC signer",
        one(lambda c: _under_kid(c.dsc, c.dsc, alg=-37)),
        Reason.BAD_SIGNATURE,
        "PS256 does not match the signer's key",
    ),
    Case(
        "unknown kid",
        one(lambda c: issue_dcc(c.dsc_untrusted)),
        Reason.UNKNOWN_ISSUER,
        lambda c: f"no document signer with key id {c.dsc_untrusted.kid.hex()}",
        Checks(),
    ),
    Case(
        "unknown kid in the protected header, a trusted one in the unprotected header (which is not signed)",
        one(lambda c: _unprotected_kid(c.dsc_untrusted, c.dsc)),
        Reason.UNKNOWN_ISSUER,
        lambda c: f"no document signer with key id {c.dsc_untrusted.kid.hex()}",
        Checks(),
    ),
    Case(
        "kid-less",
        one(lambda c: issue_dcc(c.dsc, kid_in="none")),
        Reason.NO_KEY_ID,
        "no kid in the protected or unprotected header",
        Checks(),
    ),
    # EXPECTEDEXPIRATIONCHECK
    Case(
        "expired certificate",
        one(lambda c: issue_dcc(c.dsc, iat=NOW - timedelta(days=3), exp=NOW - timedelta(minutes=1))),
        Reason.EXPIRED,
        f"valid until {NOW - timedelta(minutes=1):%Y-%m-%d %H:%M} UTC",
        Checks(signature_valid=True, expired=True, key_usage_ok=True, schema_valid=True),
    ),
    Case(
        "expired a second after its exp",
        one(lambda c: issue_dcc(c.dsc, iat=NOW - timedelta(days=3), exp=NOW - timedelta(seconds=1))),
        Reason.EXPIRED,
        f"valid until {NOW - timedelta(seconds=1):%Y-%m-%d %H:%M} UTC",
        Checks(signature_valid=True, expired=True, key_usage_ok=True, schema_valid=True),
    ),
    Case(
        "certificate not yet valid",
        one(lambda c: issue_dcc(c.dsc, iat=NOW + timedelta(hours=2), exp=NOW + timedelta(days=2))),
        Reason.NOT_YET_VALID,
        f"issued {NOW + timedelta(hours=2):%Y-%m-%d %H:%M} UTC",
        Checks(signature_valid=True, expired=True, key_usage_ok=True, schema_valid=True),
    ),
    Case(
        "expired signer",
        one(lambda c: issue_dcc(c.dsc_expired, iat=NOW - timedelta(days=3), exp=NOW + timedelta(days=2))),
        Reason.SIGNER_EXPIRED,
        _signer_validity,
        Checks(signature_valid=True, expired=True, key_usage_ok=True, schema_valid=True),
    ),
    # EXPECTEDKEYUSAGE
    Case(
        "key usage: vaccination signer, test entry",
        one(lambda c: issue_dcc(c.dsc_vaccination_only)),
        Reason.WRONG_KEY_USAGE,
        "test entry; signer may sign vaccination",
        Checks(signature_valid=True, expired=False, key_usage_ok=False, schema_valid=True),
    ),
    Case(
        "key usage: test signer, recovery entry",
        one(lambda c: issue_dcc(c.dsc_test_only, dcc_payload("r"))),
        Reason.WRONG_KEY_USAGE,
        "recovery entry; signer may sign test",
        Checks(signature_valid=True, expired=False, key_usage_ok=False, schema_valid=True),
    ),
    # EXPECTEDSCHEMAVALIDATION
    *(
        Case(
            f"schema: {what}",
            one(lambda c, payload=payload: issue_dcc(c.dsc, payload)),
            Reason.SCHEMA_INVALID,
            where,
            steps=SIGNED_BAD_SCHEMA,
        )
        for what, (payload, where) in SCHEMA_VIOLATIONS.items()
    ),
    Case(
        "schema: hcert claim without a DCC",
        one(lambda c: _claims(c.dsc, NOT_A_DCC)),
        Reason.SCHEMA_INVALID,
        "no EU DCC under the hcert claim",
        Checks(signature_valid=True, schema_valid=False),
    ),
    *(
        Case(
            f"bad CWT claims: {what}",
            one(lambda c, claims=claims: _claims(c.dsc, claims)),
            Reason.MALFORMED,
            "CWT claims decoding failed",
            steps={"signature_valid": True},
        )
        for what, claims in MALFORMED_CLAIMS.items()
    ),
    # multi-entry
    *(
        Case(
            f"multi-entry: {what}",
            one(lambda c, payload=payload: issue_dcc(c.dsc, payload)),
            Reason.MULTIPLE_ENTRIES,
            where,
            steps=SIGNED_BAD_SCHEMA,
        )
        for what, (payload, where) in MULTI_ENTRY.items()
    ),
]


# -- SMART Health Cards --------------------------------------------------------------------------------------


def _tampered_signature(cast: Cast) -> str:
    head, body, signature = sign_shc(cast.shc_issuer, shc_payload()).split(".")
    return shc_text(f"{head}.{body}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}")


def _spliced(cast: Cast) -> str:
    """A negative result's payload under the signature of a positive one."""
    genuine = sign_shc(cast.shc_issuer, shc_payload([patient(), lab_result(result="10828004")]))
    forged = sign_shc(cast.shc_issuer, shc_payload([patient(), lab_result()]))
    return shc_text(".".join([genuine.split(".")[0], forged.split(".")[1], genuine.split(".")[2]]))


def _with_header(cast: Cast, header: dict[str, str]) -> str:
    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    token = sign_shc(cast.shc_issuer, shc_payload())
    return shc_text(".".join([encoded, *token.split(".")[1:]]))


def _header(kid: str) -> dict[str, str]:
    return {"alg": "ES256", "zip": "DEF", "kid": kid}


def _raw(raw: bytes) -> Callable[[Cast], list[str]]:
    return one(lambda c: shc_text(sign_shc(c.shc_issuer, None, raw_payload=raw)))


_CARD_JSON = json.dumps(shc_payload([patient()])).encode()
"""A small card: its JSON, not deflated, must still fit one QR code."""
SINGLE_DOSE = (NOW - timedelta(days=40)).date()
LAB_RESOURCES = [
    patient(),
    lab_result(NOW - timedelta(hours=30)),
    lab_result(NOW - timedelta(hours=3), loinc="94558-4"),
    lab_result(NOW - timedelta(hours=2), loinc="12345-6"),  # not a SARS-CoV-2 test
    immunization(SINGLE_DOSE, cvx="212"),
    immunization(SINGLE_DOSE, cvx="03"),  # not a COVID-19 vaccine
]
VACCINATED = f"vaccination dose 2 on {(NOW - timedelta(days=30)).date()}"
"""The default card (`shc_payload`): two doses, the last thirty days before NOW."""
SHC_SCHEMA_VIOLATIONS = {
    "no vc": ({"iss": "https://health.example.org/issuer", "nbf": 1}, "vc"),
    "nbf in words": (shc_payload() | {"nbf": "yesterday"}, "nbf"),
    "beyond the year 9999": (shc_payload() | {"nbf": 2**39}, "nbf"),
    "plain http issuer": (shc_payload() | {"iss": "http://health.example.org/issuer"}, "iss"),
    "no credential subject": (
        shc_payload() | {"vc": {"type": ["https://smarthealth.cards#health-card"]}},
        "vc.credentialSubject",
    ),
    "not a health card": (
        shc_payload() | {"vc": shc_payload()["vc"] | {"type": ["https://example.org#other"]}},
        "vc.type lacks the health-card type",
    ),
    "bad rid": (shc_payload() | {"vc": shc_payload()["vc"] | {"rid": "not a rid!"}}, "vc.rid"),
    "immunization without vaccine": (
        shc_payload([patient(), {"resourceType": "Immunization", "status": "completed"}]),
        "vaccineCode",
    ),
    "sample time without zone": (
        shc_payload([patient(), lab_result() | {"effectiveDateTime": "2026-11-23T04:00:00"}]),
        "has no time zone",
    ),
    "date in words": (
        shc_payload([patient(), immunization(NOW.date()) | {"occurrenceDateTime": "last week"}]),
        "Invalid isoformat string",
    ),
    "a list": ([1, 2, 3], "payload"),
}
BAD_NUMERIC = ["shc:/", "shc:/123", "shc:/9999", "shc:/12a4", "shc:/1/1/1234", "shc:/3/2/1234", "shc:/0/2/12"]
BAD_NUMERIC += ["shc://12", "shc:/1/2/999", "shc:/" + "\u0661\u0662" * 10]
"""Damaged numeric forms, a damaged chunk among them (refused at once, before its set completes)."""

SHC_CASES = [
    Case(
        "good vaccination card",
        one(lambda c: issue_shc(c.shc_issuer)),
        None,
        VACCINATED,
        SHC_PASSED,
    ),
    Case(
        "good lab results",
        one(lambda c: issue_shc(c.shc_issuer, shc_payload(LAB_RESOURCES))),
        None,
        f"NAA test negative, sampled {NOW - timedelta(hours=30):%Y-%m-%d %H:%M} UTC; rapid antigen test negative, "
        f"sampled {NOW - timedelta(hours=3):%Y-%m-%d %H:%M} UTC; vaccination dose 1 on {SINGLE_DOSE}",
        SHC_PASSED,
    ),
    Case(
        "good chunked card, parts shown 3, 1, 2",
        lambda c: [shc_chunks(sign_shc(c.shc_issuer, shc_payload()), 3)[i] for i in (2, 0, 1)],
        None,
        VACCINATED,
        SHC_PASSED,
    ),
    Case(
        "good chunked lab result, parts shown 1, 2",
        lambda c: shc_chunks(sign_shc(c.shc_issuer, shc_payload([patient(), lab_result()])), 2),
        None,
        SAMPLED,
        SHC_PASSED,
    ),
    Case(
        "bad signature",
        one(_tampered_signature),
        Reason.BAD_SIGNATURE,
        Reason.BAD_SIGNATURE.value,
        FORGED,
    ),
    Case("bad signature: spliced payload", one(_spliced), Reason.BAD_SIGNATURE, "forged", FORGED),
    Case(
        "bad signature: another key claiming a trusted kid",
        one(lambda c: shc_text(sign_shc(c.shc_other_issuer, shc_payload(), header=_header(c.shc_issuer.kid)))),
        Reason.BAD_SIGNATURE,
        "forged",
        FORGED,
    ),
    Case(
        "bad deflate: not compressed",
        _raw(_CARD_JSON),
        Reason.MALFORMED,
        "raw DEFLATE decompression failed (the stream is damaged)",
        Checks(signature_valid=True),
    ),
    Case(
        "bad deflate: truncated",
        _raw(deflate(_CARD_JSON)[:-8]),
        Reason.MALFORMED,
        "raw DEFLATE decompression failed (the stream is truncated)",
        Checks(signature_valid=True),
    ),
    Case(
        "bad deflate: trailing data",
        _raw(deflate(_CARD_JSON) + b"tail"),
        Reason.MALFORMED,
        "raw DEFLATE decompression failed (data after the end of the stream)",
        Checks(signature_valid=True),
    ),
    Case(
        "bad deflate: zlib header",
        _raw(b"\x78\x9c" + deflate(b"{}")),
        Reason.MALFORMED,
        "raw DEFLATE decompression failed",
        Checks(signature_valid=True),
    ),
    Case(
        "payload not JSON",
        _raw(deflate(b"\xff{not json")),
        Reason.MALFORMED,
        "payload decoding failed (the inflated payload is not JSON)",
        Checks(signature_valid=True),
    ),
    Case(
        "unknown kid",
        one(lambda c: issue_shc(c.shc_other_issuer)),
        Reason.UNKNOWN_ISSUER,
        lambda c: f"no SMART Health Card issuer key {c.shc_other_issuer.kid}",
        Checks(),
    ),
    Case(
        "kid-less",
        one(lambda c: shc_text(sign_shc(c.shc_issuer, shc_payload(), header={"alg": "ES256", "zip": "DEF"}))),
        Reason.NO_KEY_ID,
        "no kid in the JWS header",
        Checks(),
    ),
    Case(
        "JWS header without zip",
        one(lambda c: _with_header(c, {"alg": "ES256", "kid": "k"})),
        Reason.MALFORMED,
        "JWS decoding failed (the header does not say the payload is DEFLATE-compressed)",
        Checks(),
    ),
    Case(
        "JWS header zip GZIP",
        one(lambda c: _with_header(c, {"alg": "ES256", "zip": "GZIP", "kid": "k"})),
        Reason.MALFORMED,
        "JWS decoding failed (the header does not say the payload is DEFLATE-compressed)",
        Checks(),
    ),
    Case(
        "JWS header alg none",
        one(lambda c: _with_header(c, {"alg": "none", "zip": "DEF"})),
        Reason.MALFORMED,
        "JWS decoding failed (the signature algorithm is not ES256)",
        Checks(),
    ),
    Case(
        "key bound to another issuer",
        one(lambda c: issue_shc(c.shc_issuer, shc_payload(iss="https://impostor.example.com"))),
        Reason.UNKNOWN_ISSUER,
        lambda c: f"key {c.shc_issuer.kid} belongs to another issuer",
        Checks(signature_valid=True, schema_valid=True),
    ),
    Case(
        "revoked rid",
        one(lambda c: issue_shc(c.shc_issuer, shc_payload(rid="revokedRid1"))),
        Reason.REVOKED,
        "rid revokedRid1",
        SHC_PASSED,
    ),
    Case(
        "rid revoked for cards issued before a time",
        one(lambda c: issue_shc(c.shc_issuer, shc_payload(rid="revokedOld", nbf=NOW - timedelta(days=3)))),
        Reason.REVOKED,
        "rid revokedOld",
        SHC_PASSED,
    ),
    Case(
        "good card whose rid was revoked only for older cards",
        one(lambda c: issue_shc(c.shc_issuer, shc_payload(rid="revokedOld", nbf=NOW - timedelta(hours=1)))),
        None,
        VACCINATED,
        SHC_PASSED,
    ),
    Case(
        "expired card",
        one(lambda c: issue_shc(c.shc_issuer, shc_payload(exp=NOW - timedelta(minutes=1)))),
        Reason.EXPIRED,
        f"valid until {NOW - timedelta(minutes=1):%Y-%m-%d %H:%M} UTC",
        Checks(signature_valid=True, expired=True, schema_valid=True),
    ),
    Case(
        "card expired at the very second of its exp (a JWT's exp is exclusive, RFC 7519 4.1.4)",
        one(lambda c: issue_shc(c.shc_issuer, shc_payload(exp=NOW))),
        Reason.EXPIRED,
        f"valid until {NOW:%Y-%m-%d %H:%M} UTC",
        Checks(signature_valid=True, expired=True, schema_valid=True),
    ),
    Case(
        "good card a second before its exp",
        one(lambda c: issue_shc(c.shc_issuer, shc_payload(exp=NOW + timedelta(seconds=1)))),
        None,
        VACCINATED,
        SHC_PASSED,
    ),
    Case(
        "card not yet valid",
        one(lambda c: issue_shc(c.shc_issuer, shc_payload(nbf=NOW + timedelta(hours=1)))),
        Reason.NOT_YET_VALID,
        f"issued {NOW + timedelta(hours=1):%Y-%m-%d %H:%M} UTC",
        Checks(signature_valid=True, expired=True, schema_valid=True),
    ),
    *(
        Case(
            f"schema: {what}",
            one(lambda c, payload=payload: issue_shc(c.shc_issuer, payload)),
            Reason.SCHEMA_INVALID,
            where,
            Checks(signature_valid=True, schema_valid=False),
        )
        for what, (payload, where) in SHC_SCHEMA_VIOLATIONS.items()
    ),
    *(
        Case(
            f"bad numeric form {text!r}",
            one(lambda c, text=text: text),
            Reason.MALFORMED,
            "shc:/ numeric decoding failed",
            Checks(),
        )
        for text in BAD_NUMERIC
    ),
]
