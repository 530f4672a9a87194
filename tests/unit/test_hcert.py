"""EU DCC (HC1): every result class of the hcert test conventions, on certificates signed here by our own CSCA and
document signers, verified through the gate's code registry.

Conventions covered: EXPECTEDVALIDOBJECT (good), EXPECTEDUNPREFIX (wrong prefix), EXPECTEDB45DECODE (bad base45),
EXPECTEDCOMPRESSION (bad zlib), EXPECTEDDECODE (bad COSE), EXPECTEDVERIFY (bad signature, unknown kid, no kid),
EXPECTEDEXPIRATIONCHECK (expired certificate or signer), EXPECTEDKEYUSAGE, EXPECTEDSCHEMAVALIDATION.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

import base45
import cbor2
import pytest
from cbor2 import CBORTag

from kiosk.codes import CodeError, Reason, TrustList, read_code
from kiosk.codes.base import Checks, EvidenceKind, TestResult, TestType
from kiosk.codes.hcert import MAX_COSE_BYTES, MAX_TEXT_CHARS, schema_validator
from kiosk.codes.trust import TrustError
from kiosk.report import credential_json
from tests.standards_certs import (
    NOW,
    RAPID,
    Csca,
    DocumentSignerKeys,
    dcc_payload,
    dcc_test_entry,
    hc1,
    issue_dcc,
    make_dsc,
    recovery_entry,
    sign_dcc,
    vaccination_entry,
)
from tests.standards_fixtures import (  # noqa: F401 - fixtures
    csca,
    dsc,
    dsc_expired,
    dsc_rsa,
    dsc_test_only,
    dsc_untrusted,
    dsc_vaccination_only,
    shc_issuer,
    trust,
)


def failure(text: str, trust: TrustList, at: datetime = NOW) -> CodeError:
    with pytest.raises(CodeError) as caught:
        read_code(text, trust, at)
    return caught.value


def unwrap(text: str) -> CBORTag:
    return cbor2.loads(zlib.decompress(base45.b45decode(text[4:])))


# -- EXPECTEDVALIDOBJECT -------------------------------------------------------------------------------------


def test_good_test_certificate(dsc: DocumentSignerKeys, trust: TrustList) -> None:
    credential = read_code(issue_dcc(dsc), trust, NOW)
    assert credential.format == "HC1"
    assert credential.kid == dsc.kid.hex()
    assert credential.name == "E**** M*********"
    assert credential.subject is None and credential.colour is None and credential.is_certificate
    assert credential.issuer == "Ministry of Health XA (XA)"
    (evidence,) = credential.evidence
    assert (evidence.kind, evidence.test_type, evidence.test_result) == (
        EvidenceKind.TEST,
        TestType.NAA,
        TestResult.NEGATIVE,
    )
    assert evidence.sampled_at == NOW - timedelta(hours=5)
    assert credential.negative_test_at == evidence.sampled_at
    assert credential.checks == Checks(signature_valid=True, expired=False, key_usage_ok=True, schema_valid=True)
    assert credential.extra["signer"] == "CN=DSC 1,C=XA"


def test_good_rsa_ps256_certificate(dsc_rsa: DocumentSignerKeys, trust: TrustList) -> None:
    assert read_code(issue_dcc(dsc_rsa), trust, NOW).kid == dsc_rsa.kid.hex()


def test_kid_in_the_unprotected_header_is_accepted(dsc: DocumentSignerKeys, trust: TrustList) -> None:
    assert read_code(issue_dcc(dsc, kid_in="unprotected"), trust, NOW).format == "HC1"


def test_good_vaccination_and_recovery(dsc: DocumentSignerKeys, trust: TrustList) -> None:
    vaccinated = read_code(issue_dcc(dsc, dcc_payload("v", [vaccination_entry(dn=1, sd=2)])), trust, NOW)
    (dose,) = vaccinated.evidence
    assert (dose.kind, dose.dose, dose.doses, dose.complete) == (EvidenceKind.VACCINATION, 1, 2, False)
    assert vaccinated.negative_test_at is None
    recovered = read_code(issue_dcc(dsc, dcc_payload("r")), trust, NOW)
    (recovery,) = recovered.evidence
    assert recovery.kind is EvidenceKind.RECOVERY
    assert recovery.valid_until == (NOW + timedelta(days=170)).date()


def test_rapid_and_positive_tests_are_told_apart(dsc: DocumentSignerKeys, trust: TrustList) -> None:
    rapid = read_code(issue_dcc(dsc, dcc_payload("t", [dcc_test_entry(tt=RAPID)])), trust, NOW)
    assert rapid.evidence[0].test_type is TestType.RAPID and rapid.negative_test_at is None
    positive = read_code(issue_dcc(dsc, dcc_payload("t", [dcc_test_entry(tr="260373001")])), trust, NOW)
    assert positive.evidence[0].test_result is TestResult.POSITIVE and positive.negative_test_at is None


def test_entry_for_another_disease_attests_nothing(dsc: DocumentSignerKeys, trust: TrustList) -> None:
    credential = read_code(issue_dcc(dsc, dcc_payload("t", [dcc_test_entry(tg="6142004")])), trust, NOW)
    assert credential.evidence == ()


def test_untagged_and_cwt_tagged_cose_are_read(dsc: DocumentSignerKeys, trust: TrustList) -> None:
    message = unwrap(issue_dcc(dsc))
    assert read_code(hc1(cbor2.dumps(message.value)), trust, NOW).format == "HC1"
    assert read_code(hc1(cbor2.dumps(CBORTag(61, message))), trust, NOW).format == "HC1"


def test_names_are_masked_and_hostile_text_stays_text(dsc: DocumentSignerKeys, trust: TrustList) -> None:
    hostile = {"fn": "\x1b[2J[red]Boom[/red]", "fnt": "BOOM", "gn": "\u202eEvil", "gnt": "EVIL"}
    credential = read_code(issue_dcc(dsc, dcc_payload(nam=hostile)), trust, NOW)
    assert credential.name == "\u202e**** \x1b" + "*" * (len("\x1b[2J[red]Boom[/red]") - 1)
    shown = credential_json(credential)["name"]
    assert "\x1b" not in shown and "\u202e" not in shown
    assert shown.startswith("\\u202e****") and "\\x1b" in shown
    only_standardised = {"fnt": "DCERVENKOVA<PANKLOVA", "gnt": "JIRINA<MARIA"}
    assert (
        read_code(issue_dcc(dsc, dcc_payload(nam=only_standardised)), trust, NOW).name
        == "J***** M**** D********** P*******"
    )


# -- EXPECTEDUNPREFIX, EXPECTEDB45DECODE, EXPECTEDCOMPRESSION, EXPECTEDDECODE --------------------------------


@pytest.mark.parametrize("prefix", ["HC2:", "hc1:", "HC1", "XHC1:"])
def test_wrong_prefix_is_not_read_as_a_dcc(dsc: DocumentSignerKeys, trust: TrustList, prefix: str) -> None:
    text = prefix + issue_dcc(dsc)[4:]
    assert failure(text, trust).reason is Reason.NOT_OURS


@pytest.mark.parametrize("body", ["ABC", "GGW", "A", "hello world", "::::"])
def test_bad_base45(trust: TrustList, body: str) -> None:
    assert failure("HC1:" + body, trust).reason is Reason.MALFORMED


def test_bad_compression(dsc: DocumentSignerKeys, trust: TrustList) -> None:
    raw = sign_dcc(dsc, dcc_payload())
    assert failure("HC1:" + base45.b45encode(raw).decode(), trust).reason is Reason.MALFORMED
    truncated = zlib.compress(raw)[:-6]
    assert failure("HC1:" + base45.b45encode(truncated).decode(), trust).reason is Reason.MALFORMED
    trailing = zlib.compress(raw) + b"junk"
    assert failure("HC1:" + base45.b45encode(trailing).decode(), trust).reason is Reason.MALFORMED


@pytest.mark.parametrize(
    "message",
    [
        b"\xff\x00garbage",
        cbor2.dumps({"not": "cose"}),
        cbor2.dumps(CBORTag(17, [b"", {}, b"", b""])),
        cbor2.dumps(CBORTag(18, [b"", {}, b""])),
        cbor2.dumps(CBORTag(18, ["text", {}, b"", b""])),
        cbor2.dumps(CBORTag(18, [cbor2.dumps({1: -7, 4: b"12345678"}), [], b"", b""])),
    ],
)
def test_bad_cose(trust: TrustList, message: bytes) -> None:
    assert failure(hc1(message), trust).reason is Reason.MALFORMED


def test_unsupported_algorithm_is_refused(dsc: DocumentSignerKeys, trust: TrustList) -> None:
    message = unwrap(issue_dcc(dsc))
    message.value[0] = cbor2.dumps({1: -8, 4: dsc.kid})
    assert failure(hc1(cbor2.dumps(message)), trust).reason is Reason.MALFORMED


# -- EXPECTEDVERIFY ------------------------------------------------------------------------------------------


def test_bad_signature(dsc: DocumentSignerKeys, trust: TrustList) -> None:
    message = unwrap(issue_dcc(dsc))
    signature = bytearray(message.value[3])
    signature[5] ^= 0x40
    message.value[3] = bytes(signature)
    error = failure(hc1(cbor2.dumps(message)), trust)
    assert error.reason is Reason.BAD_SIGNATURE
    assert error.checks == Checks(signature_valid=False)


def test_altered_payload_with_original_signature(dsc: DocumentSignerKeys, trust: TrustList) -> None:
    message = unwrap(issue_dcc(dsc, dcc_payload("t", [dcc_test_entry(tr="260373001")])))
    claims = cbor2.loads(message.value[2])
    claims[-260][1]["t"][0]["tr"] = "260415000"
    message.value[2] = cbor2.dumps(claims)
    assert failure(hc1(cbor2.dumps(message)), trust).reason is Reason.BAD_SIGNATURE


def test_signature_by_another_key_under_a_trusted_kid(
    dsc: DocumentSignerKeys, dsc_untrusted: DocumentSignerKeys, trust: TrustList
) -> None:
    forged = unwrap(issue_dcc(dsc_untrusted))
    forged.value[0] = cbor2.dumps({1: -7, 4: dsc.kid})
    assert failure(hc1(cbor2.dumps(forged)), trust).reason is Reason.BAD_SIGNATURE


def test_algorithm_not_matching_the_signer(dsc: DocumentSignerKeys, trust: TrustList) -> None:
    message = unwrap(issue_dcc(dsc))
    message.value[0] = cbor2.dumps({1: -37, 4: dsc.kid})
    assert failure(hc1(cbor2.dumps(message)), trust).reason is Reason.BAD_SIGNATURE


def test_unknown_kid(dsc_untrusted: DocumentSignerKeys, trust: TrustList) -> None:
    error = failure(issue_dcc(dsc_untrusted), trust)
    assert error.reason is Reason.UNKNOWN_ISSUER
    assert dsc_untrusted.kid.hex() in str(error)
    assert error.checks == Checks()


def test_kid_less_certificate_fails_closed(dsc: DocumentSignerKeys, trust: TrustList) -> None:
    error = failure(issue_dcc(dsc, kid_in="none"), trust)
    assert error.reason is Reason.NO_KEY_ID
    assert error.checks.signature_valid is None


def test_conflicting_kids_in_the_two_headers(
    dsc: DocumentSignerKeys, dsc_rsa: DocumentSignerKeys, trust: TrustList
) -> None:
    message = unwrap(issue_dcc(dsc))
    message.value[1] = {4: dsc_rsa.kid}
    assert failure(hc1(cbor2.dumps(message)), trust).reason is Reason.MALFORMED


# -- EXPECTEDEXPIRATIONCHECK ---------------------------------------------------------------------------------


def test_expired_certificate(dsc: DocumentSignerKeys, trust: TrustList) -> None:
    text = issue_dcc(dsc, iat=NOW - timedelta(days=3), exp=NOW - timedelta(minutes=1))
    error = failure(text, trust)
    assert error.reason is Reason.EXPIRED
    assert error.checks == Checks(signature_valid=True, expired=True, key_usage_ok=True, schema_valid=True)
    assert read_code(text, trust, NOW - timedelta(hours=1)).format == "HC1"


def test_certificate_not_yet_valid(dsc: DocumentSignerKeys, trust: TrustList) -> None:
    text = issue_dcc(dsc, iat=NOW + timedelta(hours=2), exp=NOW + timedelta(days=2))
    assert failure(text, trust).reason is Reason.NOT_YET_VALID


def test_expired_signer(dsc_expired: DocumentSignerKeys, trust: TrustList) -> None:
    text = issue_dcc(dsc_expired, iat=NOW - timedelta(days=3), exp=NOW + timedelta(days=2))
    error = failure(text, trust)
    assert error.reason is Reason.SIGNER_EXPIRED
    assert error.checks.expired is True and error.checks.signature_valid is True
    assert read_code(text, trust, NOW - timedelta(days=2)).format == "HC1"


def test_certificate_issued_before_its_signer_was_valid(csca: Csca, trust: TrustList) -> None:
    young = make_dsc(csca, not_before=NOW - timedelta(days=1), common_name="DSC young")
    trust_young = TrustList()
    trust_young.add_document(young.pem(), "young.pem")
    assert failure(issue_dcc(young, iat=NOW - timedelta(days=3)), trust_young).reason is Reason.SIGNER_EXPIRED
    assert read_code(issue_dcc(young, iat=NOW - timedelta(hours=3)), trust_young, NOW).format == "HC1"


# -- EXPECTEDKEYUSAGE ----------------------------------------------------------------------------------------


def test_signer_restricted_to_vaccinations_cannot_sign_a_test(
    dsc_vaccination_only: DocumentSignerKeys, trust: TrustList
) -> None:
    error = failure(issue_dcc(dsc_vaccination_only), trust)
    assert error.reason is Reason.WRONG_KEY_USAGE
    assert error.checks == Checks(signature_valid=True, expired=False, key_usage_ok=False, schema_valid=True)
    assert read_code(issue_dcc(dsc_vaccination_only, dcc_payload("v")), trust, NOW).evidence[0].dose == 2


def test_signer_restricted_to_tests_signs_tests_only(dsc_test_only: DocumentSignerKeys, trust: TrustList) -> None:
    assert read_code(issue_dcc(dsc_test_only), trust, NOW).checks.key_usage_ok is True
    assert failure(issue_dcc(dsc_test_only, dcc_payload("r")), trust).reason is Reason.WRONG_KEY_USAGE


def test_legacy_key_usage_arc_and_unrelated_usages(csca: Csca) -> None:
    legacy = make_dsc(csca, usages=["1.3.6.1.4.1.0.1847.2021.1.3"], common_name="DSC legacy arc")
    unrelated = make_dsc(csca, usages=["1.3.6.1.5.5.7.3.4"], common_name="DSC email protection")
    trust = TrustList()
    trust.add_document(legacy.pem() + unrelated.pem(), "two.pem")
    assert read_code(issue_dcc(legacy, dcc_payload("r")), trust, NOW).format == "HC1"
    assert failure(issue_dcc(legacy), trust).reason is Reason.WRONG_KEY_USAGE
    # Usages that say nothing about DCC entries do not restrict the signer.
    assert read_code(issue_dcc(unrelated), trust, NOW).format == "HC1"
    assert read_code(issue_dcc(unrelated, dcc_payload("v")), trust, NOW).format == "HC1"


# -- EXPECTEDSCHEMAVALIDATION and multi-entry ----------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        {k: v for k, v in dcc_payload().items() if k != "dob"},
        dcc_payload(nam={"fn": "Muster"}),
        dcc_payload(nam={"fnt": "muster"}),
        dcc_payload(dob="1850-01-01"),
        dcc_payload(ver="1.3"),
        dcc_payload("v", [vaccination_entry(dn=0)]),
        dcc_payload("v", [{k: v for k, v in vaccination_entry().items() if k != "mp"}]),
        dcc_payload("t", [dcc_test_entry() | {"sc": "yesterday"}]),
        dcc_payload("t", [dcc_test_entry() | {"sc": "2026-11-23T04:00:00"}]),
        dcc_payload("r", [recovery_entry() | {"du": "2026-13-45"}]),
        dcc_payload("t", []),
        {k: v for k, v in dcc_payload().items() if k != "t"},
        dcc_payload(nam={"fnt": "X" * 81}),
        dcc_payload("t", [dcc_test_entry() | {"co": b"XA"}]),
        dcc_payload("t", [dcc_test_entry() | {"tr": 260415000}]),
    ],
)
def test_schema_violation(dsc: DocumentSignerKeys, trust: TrustList, payload: dict) -> None:
    error = failure(issue_dcc(dsc, payload), trust)
    assert error.reason is Reason.SCHEMA_INVALID
    assert error.checks.signature_valid is True and error.checks.schema_valid is False


def test_hcert_claim_that_is_not_a_dcc(dsc: DocumentSignerKeys, trust: TrustList) -> None:
    claims = {1: "XA", 6: int(NOW.timestamp()) - 60, 4: int(NOW.timestamp()) + 3600, -260: {2: {}}}
    assert failure(hc1(sign_dcc(dsc, None, claims=claims)), trust).reason is Reason.SCHEMA_INVALID


@pytest.mark.parametrize(
    "claims",
    [
        {1: "XA", 6: 2**39, 4: 2**39 + 10, -260: {1: {}}},  # beyond the year 9999
        [1, 2, 3],
        {1: "XA", 4: int(NOW.timestamp()) + 60, -260: {1: {}}},
        {1: 5, 6: 1, 4: 2, -260: {1: {}}},
        {6: "x", 4: 1},
    ],
)
def test_malformed_cwt_claims(dsc: DocumentSignerKeys, trust: TrustList, claims: object) -> None:
    error = failure(hc1(sign_dcc(dsc, None, claims=claims)), trust)
    assert error.reason is Reason.MALFORMED
    assert error.checks.signature_valid is True


@pytest.mark.parametrize(
    "payload",
    [
        dcc_payload("t", [dcc_test_entry(), dcc_test_entry()]),
        dcc_payload("v", [vaccination_entry(dn=1), vaccination_entry(dn=2)]),
        dcc_payload("t", t=[dcc_test_entry()], v=[vaccination_entry()]),
    ],
)
def test_multi_entry_certificate_fails_closed(dsc: DocumentSignerKeys, trust: TrustList, payload: dict) -> None:
    error = failure(issue_dcc(dsc, payload), trust)
    assert error.reason is Reason.MULTIPLE_ENTRIES
    assert error.checks.schema_valid is False


def test_schema_file_is_a_valid_draft_2020_12_schema() -> None:
    validator = schema_validator()
    for group in "tvr":
        assert validator.is_valid(dcc_payload(group))
    assert not validator.is_valid({"ver": "1.3.0"})


# -- size limits ---------------------------------------------------------------------------------------------


def test_oversized_text_is_refused_before_decoding(trust: TrustList) -> None:
    assert failure("HC1:" + "!" * MAX_TEXT_CHARS, trust).reason is Reason.TOO_LARGE


def test_zlib_bomb_is_refused_while_inflating(trust: TrustList) -> None:
    bomb = zlib.compress(b"\x00" * 50_000_000, 9)
    assert len("HC1:" + base45.b45encode(bomb).decode()) > MAX_TEXT_CHARS  # far too large even to decode
    small_bomb = zlib.compress(b"\x00" * (MAX_COSE_BYTES * 50), 9)
    text = "HC1:" + base45.b45encode(small_bomb).decode()
    assert len(text) < MAX_TEXT_CHARS
    assert failure(text, trust).reason is Reason.TOO_LARGE


# -- trust documents for DSCs --------------------------------------------------------------------------------


def test_dsc_from_der_and_from_a_pem_chain_with_its_csca(csca: Csca, dsc: DocumentSignerKeys) -> None:
    from cryptography.hazmat.primitives import serialization

    der_trust = TrustList()
    assert der_trust.add_document(dsc.der(), "dsc.der").signers == 1
    assert read_code(issue_dcc(dsc), der_trust, NOW).format == "HC1"
    chain = dsc.pem() + csca.certificate.public_bytes(serialization.Encoding.PEM)
    chain_trust = TrustList()
    assert chain_trust.add_document(chain, "chain.pem").signers == 2
    assert len(chain_trust.signers(dsc.kid)) == 1


def test_same_dsc_listed_twice_is_one_signer(dsc: DocumentSignerKeys) -> None:
    trust = TrustList()
    trust.add_document(dsc.pem() + dsc.pem(), "twice.pem")
    trust.add_document(dsc.der(), "again.der")
    assert len(trust.signers(dsc.kid)) == 1


def test_unusable_certificates_are_refused(csca: Csca) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP384R1())
    p384 = (
        x509.CertificateBuilder()
        .subject_name(csca.certificate.subject)
        .issuer_name(csca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime(2026, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2027, 1, 1, tzinfo=UTC))
        .sign(key, hashes.SHA256())
    )
    with pytest.raises(TrustError, match="secp384r1"):
        TrustList().add_document(p384.public_bytes(serialization.Encoding.PEM), "p384.pem")
