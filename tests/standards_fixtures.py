"""Fixtures for the standard-certificate tests: one CSCA with document signers of every kind, one SMART Health
Card issuer, and trust lists holding them. Test modules import the fixtures they use by name."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from kiosk.codes import TrustList
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


@pytest.fixture(scope="session")
def trust(
    dsc: DocumentSignerKeys,
    dsc_rsa: DocumentSignerKeys,
    dsc_test_only: DocumentSignerKeys,
    dsc_vaccination_only: DocumentSignerKeys,
    dsc_expired: DocumentSignerKeys,
    shc_issuer: ShcIssuer,
) -> TrustList:
    """Every DSC but the untrusted one (as one PEM list), and the SMART Health Card issuer with one revoked
    card id and one revoked only for cards issued before NOW - 1 day."""
    trust = TrustList()
    pem = b"".join(signer.pem() for signer in (dsc, dsc_rsa, dsc_test_only, dsc_vaccination_only, dsc_expired))
    trust.add_document(pem, "dsc-list.pem")
    cutoff = int((NOW - timedelta(days=1)).timestamp())
    crl = shc_issuer.crl(["revokedRid1", f"revokedOld.{cutoff}"])
    trust.add_document(json.dumps(shc_issuer.jwks(crls=[crl])).encode(), "issuer.jwks.json")
    return trust
