"""EU DCC (HC1): every result class of the hcert test conventions, on certificates signed here by our own CSCA and
document signers, verified through the gate's code registry.

Conventions covered, as the shared cases of tests/standards_cases.py (the frame tests run the same ones as QR
images): EXPECTEDVALIDOBJECT (good), EXPECTEDUNPREFIX (wrong prefix), EXPECTEDB45DECODE (bad base45),
EXPECTEDCOMPRESSION (bad zlib), EXPECTEDDECODE (bad COSE), EXPECTEDVERIFY (bad signature, unknown kid, no kid),
EXPECTEDEXPIRATIONCHECK (expired certificate or signer), EXPECTEDKEYUSAGE, EXPECTEDSCHEMAVALIDATION, and the
multi-entry refusal. The tests here add what a case alone does not say.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

import base45
import pytest

from sync.core.codes import CodeError, Reason, TrustList, read_code
from sync.core.codes.base import Checks, EvidenceKind, TestResult, TestType
from sync.core.codes.hcert import MAX_COSE_BYTES, MAX_TEXT_CHARS, schema_validator
from sync.core.codes.hcert_trust import SIGNER, DocumentSigners
from sync.core.codes.trust import TrustError
from kiosk.verdict_lines import credential_json
from tests.standards_cases import HC1_CASES, Case, assert_outcome
from tests.standards_certs import (
    NOW,
    RAPID,
    Csca,
    DocumentSignerKeys,
    dcc_payload,
    dcc_test_entry,
    issue_dcc,
    make_dsc,
    vaccination_entry,
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

CASES = {case.name: case for case in HC1_CASES}


def failure(text: str, trust: TrustList, at: datetime = NOW) -> CodeError:
    with pytest.raises(CodeError) as caught:
        read_code(text, trust, at)
    return caught.value


@pytest.mark.parametrize("case", [case.param() for case in HC1_CASES])
def test_result_class(cast: Cast, trust: TrustList, case: Case) -> None:
    """Each shared case: the reason, the words naming the failed step (or the entry attested) and the checks."""
    assert_outcome(case, cast, case.make(cast), trust)


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


# -- EXPECTEDEXPIRATIONCHECK ---------------------------------------------------------------------------------


def test_expired_certificate_was_good_before_it_expired(cast: Cast, trust: TrustList) -> None:
    (text,) = CASES["expired certificate"].make(cast)
    assert read_code(text, trust, NOW - timedelta(hours=1)).format == "HC1"


def test_certificate_not_yet_valid_is_good_once_issued(cast: Cast, trust: TrustList) -> None:
    (text,) = CASES["certificate not yet valid"].make(cast)
    assert read_code(text, trust, NOW + timedelta(hours=3)).format == "HC1"


def test_expired_signer_was_good_while_it_was_valid(cast: Cast, trust: TrustList) -> None:
    (text,) = CASES["expired signer"].make(cast)
    assert read_code(text, trust, NOW - timedelta(days=2)).format == "HC1"


def test_certificate_issued_before_its_signer_was_valid(csca: Csca, trust: TrustList) -> None:
    young = make_dsc(csca, not_before=NOW - timedelta(days=1), common_name="DSC young")
    trust_young = TrustList()
    trust_young.add_document(young.pem(), "young.pem")
    assert failure(issue_dcc(young, iat=NOW - timedelta(days=3)), trust_young).reason is Reason.SIGNER_EXPIRED
    assert read_code(issue_dcc(young, iat=NOW - timedelta(hours=3)), trust_young, NOW).format == "HC1"


# -- EXPECTEDKEYUSAGE ----------------------------------------------------------------------------------------


def test_signer_restricted_to_vaccinations_signs_vaccinations(
    dsc_vaccination_only: DocumentSignerKeys, trust: TrustList
) -> None:
    """Its test entry is refused (the shared case 'key usage: vaccination signer, test entry')."""
    assert read_code(issue_dcc(dsc_vaccination_only, dcc_payload("v")), trust, NOW).evidence[0].dose == 2


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


# -- EXPECTEDSCHEMAVALIDATION --------------------------------------------------------------------------------


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
    error = failure(text, trust)
    assert error.reason is Reason.TOO_LARGE
    assert "zlib decompression stopped" in str(error)


# -- trust documents for DSCs --------------------------------------------------------------------------------


def test_dsc_from_der_and_from_a_pem_chain_with_its_csca(csca: Csca, dsc: DocumentSignerKeys) -> None:
    from cryptography.hazmat.primitives import serialization

    der_trust = TrustList()
    assert der_trust.add_document(dsc.der(), "dsc.der").counted(SIGNER) == 1
    assert read_code(issue_dcc(dsc), der_trust, NOW).format == "HC1"
    chain = dsc.pem() + csca.certificate.public_bytes(serialization.Encoding.PEM)
    chain_trust = TrustList()
    assert chain_trust.add_document(chain, "chain.pem").counted(SIGNER) == 2
    assert len(chain_trust.section(DocumentSigners).signers(dsc.kid)) == 1


def test_same_dsc_listed_twice_is_one_signer(dsc: DocumentSignerKeys) -> None:
    trust = TrustList()
    trust.add_document(dsc.pem() + dsc.pem(), "twice.pem")
    trust.add_document(dsc.der(), "again.der")
    assert len(trust.section(DocumentSigners).signers(dsc.kid)) == 1


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


def test_an_expired_certificate_is_refused_with_its_holder_a_forged_one_without(cast: Cast, trust: TrustList) -> None:
    """Its signature verified, so whose it is can be believed and logged (masked), unlike a forged one's."""
    (text,) = CASES["expired certificate"].make(cast)
    good = read_code(text, trust, NOW - timedelta(hours=1))

    error = failure(text, trust)

    assert error.reason is Reason.EXPIRED and error.holder is not None
    assert (error.holder.subject, error.holder.name, error.holder.format) == (None, good.name, "HC1")
    assert failure(text[:-6] + "AAAAAA", trust).holder is None
