"""HQ's TLS certificate as both sides name it: the SHA-256 of its DER, what `pocket-hq gates add` prints and a gate
pins at enrolment."""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization


class CertificateError(Exception):
    """A certificate (or a fingerprint of one) cannot be used; the message says why."""


def certificate_fingerprint(certificate: bytes) -> str:
    """SHA-256 (hex) of a certificate given as PEM or DER."""
    try:
        cert = x509.load_pem_x509_certificate(certificate) if b"-----BEGIN" in certificate else x509.load_der_x509_certificate(certificate)
    except ValueError as exc:
        raise CertificateError("not an X.509 certificate (PEM or DER)") from exc
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def normal_fingerprint(text: str) -> str:
    """A fingerprint as typed or pasted ('AB:CD:...', spaces, upper case) in the form `certificate_fingerprint` gives."""
    value = text.replace(":", "").replace(" ", "").strip().lower()
    if len(value) != 64 or any(ch not in "0123456789abcdef" for ch in value):
        raise CertificateError(f"{text!r} is not a SHA-256 fingerprint (64 hex digits)")
    return value
