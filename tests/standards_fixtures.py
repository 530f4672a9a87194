"""Fixtures for the standard-certificate tests: one CSCA with document signers of every kind, one SMART Health
Card issuer, and trust lists holding them. Test modules import the fixtures they use by name."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest

from sync.core.codes import TrustList
from tests.standards_certs import (
    EKU_TEST,
    EKU_VACCINATION,
    NOW,
    Csca,
    DocumentSignerKeys,
    ShcIssuer,
    make_csca,
    make_dsc,
    make_shc_issuer,
)


@pytest.fixture(scope="session")
def csca() -> Csca:
    return make_csca()


@pytest.fixture(scope="session")
def dsc(csca: Csca) -> DocumentSignerKeys:
    """ES256, no key-usage restriction."""
    return make_dsc(csca)


@pytest.fixture(scope="session")
def dsc_rsa(csca: Csca) -> DocumentSignerKeys:
    """PS256 (RSA 2048), the spec's secondary algorithm."""
    return make_dsc(csca, algorithm="PS256", common_name="DSC RSA")


@pytest.fixture(scope="session")
def dsc_test_only(csca: Csca) -> DocumentSignerKeys:
    return make_dsc(csca, usages=[EKU_TEST], common_name="DSC tests")


@pytest.fixture(scope="session")
def dsc_vaccination_only(csca: Csca) -> DocumentSignerKeys:
    return make_dsc(csca, usages=[EKU_VACCINATION], common_name="DSC vaccinations")


@pytest.fixture(scope="session")
def dsc_expired(csca: Csca) -> DocumentSignerKeys:
    """Valid until a day before NOW."""
    return make_dsc(
        csca, not_before=NOW - timedelta(days=400), not_after=NOW - timedelta(days=1), common_name="DSC old"
    )


@pytest.fixture(scope="session")
def dsc_untrusted(csca: Csca) -> DocumentSignerKeys:
    return make_dsc(csca, common_name="DSC not in the list")


@pytest.fixture(scope="session")
def shc_issuer() -> ShcIssuer:
    return make_shc_issuer()


@pytest.fixture(scope="session")
def shc_other_issuer() -> ShcIssuer:
    return make_shc_issuer("https://elsewhere.example.net/cards")


def dsc_list(*signers: DocumentSignerKeys) -> bytes:
    """Document signers as one PEM list, the way a national list arrives."""
    return b"".join(signer.pem() for signer in signers)


def issuer_jwks(issuer: ShcIssuer) -> bytes:
    """A SMART Health Card issuer's JWKS with one revoked card id and one revoked only for cards issued before
    NOW - 1 day."""
    cutoff = int((NOW - timedelta(days=1)).timestamp())
    crl = issuer.crl(["revokedRid1", f"revokedOld.{cutoff}"])
    return json.dumps(issuer.jwks(crls=[crl])).encode()


@pytest.fixture(scope="session")
def trust(
    dsc: DocumentSignerKeys,
    dsc_rsa: DocumentSignerKeys,
    dsc_test_only: DocumentSignerKeys,
    dsc_vaccination_only: DocumentSignerKeys,
    dsc_expired: DocumentSignerKeys,
    shc_issuer: ShcIssuer,
) -> TrustList:
    """Every DSC but the untrusted one (as one PEM list), and the SMART Health Card issuer's JWKS
    (`issuer_jwks`)."""
    trust = TrustList()
    trust.add_document(dsc_list(dsc, dsc_rsa, dsc_test_only, dsc_vaccination_only, dsc_expired), "dsc-list.pem")
    trust.add_document(issuer_jwks(shc_issuer), "issuer.jwks.json")
    return trust


@dataclass(frozen=True)
class Cast:
    """Every authority of the fixtures above, for the shared cases (tests/standards_cases.py) to sign with."""

    csca: Csca
    dsc: DocumentSignerKeys
    dsc_rsa: DocumentSignerKeys
    dsc_test_only: DocumentSignerKeys
    dsc_vaccination_only: DocumentSignerKeys
    dsc_expired: DocumentSignerKeys
    dsc_untrusted: DocumentSignerKeys
    shc_issuer: ShcIssuer
    shc_other_issuer: ShcIssuer

    def trusted_dsc_list(self) -> bytes:
        """The DSC list the `trust` fixture holds (every DSC but the untrusted one)."""
        return dsc_list(self.dsc, self.dsc_rsa, self.dsc_test_only, self.dsc_vaccination_only, self.dsc_expired)


@pytest.fixture(scope="session")
def cast(
    csca: Csca,
    dsc: DocumentSignerKeys,
    dsc_rsa: DocumentSignerKeys,
    dsc_test_only: DocumentSignerKeys,
    dsc_vaccination_only: DocumentSignerKeys,
    dsc_expired: DocumentSignerKeys,
    dsc_untrusted: DocumentSignerKeys,
    shc_issuer: ShcIssuer,
    shc_other_issuer: ShcIssuer,
) -> Cast:
    return Cast(
        csca, dsc, dsc_rsa, dsc_test_only, dsc_vaccination_only, dsc_expired, dsc_untrusted, shc_issuer,
        shc_other_issuer,
    )  # fmt: skip
