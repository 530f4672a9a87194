"""HQ's TLS certificate: `pocket-hq tls init` makes a self-signed one for a district without a certificate
authority. Gates do not need a CA: each pins the certificate's fingerprint at enrolment (`pocket-hq gates add`
prints it next to the token) and refuses any other from then on.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sync.core.i18n import _
from sync.core.secret_files import write_secret
from sync.core.tls import CertificateError, certificate_fingerprint

DEFAULT_DAYS = 3650
"""Ten years: a pinned certificate is replaced by re-enrolling every gate, so it should outlast the laptops."""


def create_self_signed(cert_file: Path, key_file: Path, hosts: list[str], days: int = DEFAULT_DAYS) -> str:
    """Write a new P-256 key (owner-only) and a self-signed certificate for `hosts` (names or IP addresses, the
    first also its common name); return the certificate's fingerprint. Never overwrites either file."""
    if not hosts:
        raise CertificateError(_("name at least one host name or address that gates reach HQ by"))
    for path in (cert_file, key_file):
        if path.exists():
            raise CertificateError(_("{path} already exists; gates pinned it: it is never overwritten").format(path=path))
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0]),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Pocket Gate HQ")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    write_secret(key_file, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    cert_file.parent.mkdir(parents=True, exist_ok=True)
    cert_file.write_bytes(pem)
    return certificate_fingerprint(pem)


def fingerprint_of(cert_file: Path) -> str:
    try:
        return certificate_fingerprint(cert_file.read_bytes())
    except OSError as exc:
        raise CertificateError(
            _("cannot read HQ's certificate {path}: {error}").format(path=cert_file, error=exc.strerror)
        ) from exc
