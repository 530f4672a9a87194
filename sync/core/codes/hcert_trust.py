"""The trust EU Digital COVID Certificates need: document-signer certificates (DSCs, X.509 in PEM or DER), each
looked up by the EU DCC key id (the first 8 bytes of the SHA-256 of the certificate), with their validity period
and the extended key usages that restrict them to test, vaccination or recovery entries."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Self

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cwt import load_pem_hcert_dsc
from cwt.cose_key_interface import COSEKeyInterface

from sync.core.codes.base import EvidenceKind
from sync.core.codes.trust import DocumentPart, TrustError, TrustParser

SIGNER = "EU DCC document signer"
"""What a summary counts these as."""
MIN_RSA_BITS = 2048

DCC_KEY_USAGES: dict[str, EvidenceKind] = {
    "1.3.6.1.4.1.1847.2021.1.1": EvidenceKind.TEST,
    "1.3.6.1.4.1.1847.2021.1.2": EvidenceKind.VACCINATION,
    "1.3.6.1.4.1.1847.2021.1.3": EvidenceKind.RECOVERY,
    # The same three under the arc some early national lists used; verifiers accept both.
    "1.3.6.1.4.1.0.1847.2021.1.1": EvidenceKind.TEST,
    "1.3.6.1.4.1.0.1847.2021.1.2": EvidenceKind.VACCINATION,
    "1.3.6.1.4.1.0.1847.2021.1.3": EvidenceKind.RECOVERY,
}
"""Extended key usage OIDs of the hcert specification. A DSC with none of them may sign any entry type."""


def certificate_kid(certificate: x509.Certificate) -> bytes:
    """The EU DCC key id: first 8 bytes of SHA-256 over the DER certificate."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest()[:8]


@dataclass(frozen=True)
class DocumentSigner:
    """An EU DCC document-signer certificate (DSC)."""

    kid: bytes
    fingerprint: bytes
    """SHA-256 of the whole certificate: the same DSC listed twice is one entry."""
    cose_key: COSEKeyInterface = field(compare=False)
    subject: str = field(compare=False)
    country: str | None = field(compare=False)
    not_before: datetime = field(compare=False)
    not_after: datetime = field(compare=False)
    usages: frozenset[EvidenceKind] | None = field(compare=False)
    """The entry types this DSC may sign; None when its key usages do not restrict it."""
    label: str = field(compare=False)

    def valid_at(self, moment: datetime) -> bool:
        return self.not_before <= moment <= self.not_after


class DocumentSigners:
    """The EU DCC section of a trust list."""

    def __init__(self) -> None:
        self._signers: dict[bytes, list[DocumentSigner]] = defaultdict(list)

    def __len__(self) -> int:
        return sum(map(len, self._signers.values()))

    def signers(self, kid: bytes) -> list[DocumentSigner]:
        """Every DSC with this key id (8-byte ids can collide; the spec says to try them all)."""
        return list(self._signers.get(kid, ()))

    def add(self, signer: DocumentSigner) -> None:
        if signer not in self._signers[signer.kid]:
            self._signers[signer.kid].append(signer)

    def merge(self, other: Self) -> None:
        for signers in other._signers.values():
            for signer in signers:
                self.add(signer)

    def storage_problem(self) -> str | None:
        return None


def _add_certificate(certificate: x509.Certificate, part: DocumentPart) -> None:
    public_key = certificate.public_key()
    where = part.where
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if not isinstance(public_key.curve, ec.SECP256R1):
            part.summary.skipped.append(f"{where}: {public_key.curve.name} key (EU DCC signs with P-256 or RSA)")
            return
    elif isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < MIN_RSA_BITS:
            part.summary.skipped.append(f"{where}: RSA key of {public_key.key_size} bits")
            return
    else:
        part.summary.skipped.append(f"{where}: {type(public_key).__name__} (EU DCC signs with P-256 or RSA)")
        return
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    der = certificate.public_bytes(serialization.Encoding.DER)
    country = certificate.subject.get_attributes_for_oid(x509.NameOID.COUNTRY_NAME)
    part.section(DocumentSigners).add(
        DocumentSigner(
            kid=certificate_kid(certificate),
            fingerprint=hashlib.sha256(der).digest(),
            cose_key=load_pem_hcert_dsc(pem),
            subject=certificate.subject.rfc4514_string(),
            country=str(country[0].value) if country else None,
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
            usages=_dcc_usages(certificate),
            label=where,
        )
    )
    part.summary.add(SIGNER)


def _dcc_usages(certificate: x509.Certificate) -> frozenset[EvidenceKind] | None:
    try:
        usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return None
    kinds = frozenset(DCC_KEY_USAGES[oid.dotted_string] for oid in usages if oid.dotted_string in DCC_KEY_USAGES)
    return kinds or None


def _read_pem_certificate(block: bytes, part: DocumentPart) -> bool:
    try:
        certificate = x509.load_pem_x509_certificate(block)
    except ValueError as exc:
        raise TrustError(f"{part.where}: damaged certificate") from exc
    _add_certificate(certificate, part)
    return True


def _read_der_certificate(data: bytes, part: DocumentPart) -> bool:
    try:
        certificate = x509.load_der_x509_certificate(data)
    except ValueError:
        return False
    _add_certificate(certificate, part)
    return True


PARSERS = (
    TrustParser("pem", "CERTIFICATE", "pem", "PEM", _read_pem_certificate),
    TrustParser("binary", "", "x509-der", "a DER certificate", _read_der_certificate),
)
"""DSCs in PEM (one or many to a file, with other blocks) and DER (one to a file)."""
