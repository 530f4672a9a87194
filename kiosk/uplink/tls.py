"""HQ's TLS certificate, pinned at enrolment: the gate trusts that one certificate for HQ and nothing else.

Enrolment reads the certificate HQ presents (a handshake, nothing sent), checks its fingerprint against the one
`pocket-hq gates add` printed (or, without one, that a certificate authority this laptop trusts signed it), and
keeps it beside the configuration (`hq_cert_file`). Every later connection trusts exactly that certificate
(`pinned_context`): a different one, whoever signed it, fails the handshake before the token is sent, and the
sync says so (`CertificateRefused`) instead of retrying as if HQ were offline. Plain http:// is refused at
enrolment except to this machine (loopback) unless the operator insists (`--insecure-http`).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl

import httpx

from sync.core.i18n import _


class TlsError(Exception):
    """HQ's certificate could not be read or is not the one expected; the message says what to do."""


class NotVouched(TlsError):
    """No authority this laptop trusts vouches for HQ's certificate (self-signed, or someone posing as HQ)."""


def is_loopback(url: str) -> bool:
    host = httpx.URL(url).host
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def presented_certificate(url: str, timeout: float = 10.0, *, vouched: bool = False) -> bytes:
    """The certificate (DER) HQ at an https:// `url` presents, read in a handshake that sends nothing. Without
    `vouched` the handshake trusts nothing (what the certificate is worth is decided by its fingerprint); with it,
    an authority this laptop trusts must vouch for it and HQ's name, in that same handshake, or `NotVouched` is
    raised: the certificate pinned is then the very one vouched for, not one read on another connection that
    someone on the network could have answered differently."""
    parsed = httpx.URL(url)
    context = ssl.create_default_context()
    if not vouched:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((parsed.host, parsed.port or 443), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=parsed.host) as tls:
                der = tls.getpeercert(binary_form=True)
    except ssl.SSLCertVerificationError as exc:
        raise NotVouched(
            _("HQ's certificate at {url} is not vouched for by an authority this laptop trusts ({problem})").format(
                url=url, problem=exc.verify_message
            )
        ) from exc
    except (OSError, ssl.SSLError) as exc:
        raise TlsError(_("cannot read HQ's certificate at {url}: {error}").format(url=url, error=exc)) from exc
    if not der:
        raise TlsError(_("HQ at {url} presented no certificate").format(url=url))
    return der


def pinned_context(certificate_pem: bytes) -> ssl.SSLContext:
    """A TLS context that trusts exactly this certificate (as its own anchor, whoever issued it). The host name
    is not checked: the pin is the identity, and HQ may be reached by an address its certificate does not name."""
    context = ssl.create_default_context(cadata=certificate_pem.decode("ascii"))
    context.check_hostname = False
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


def der_to_pem(der: bytes) -> bytes:
    return ssl.DER_cert_to_PEM_cert(der).encode("ascii")
