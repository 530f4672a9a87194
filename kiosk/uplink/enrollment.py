"""Enrolling a gate with HQ: pin HQ's TLS certificate (`kiosk.uplink.tls`), check the token against HQ, pin HQ's
bundle-signing key, and write the HQ address, token file, key file and certificate into the gate's configuration.

A new laptop for a gate HQ already holds entries of (the old one was lost: `pocket-hq gates rekey`) carries on
the gate's hash chain from where HQ's copy ends, so HQ takes its entries as the chain's continuation.

The token goes in its own file readable only by the gate's user (never in kiosk.toml, which is copied around
and shown in issues). The config file is edited with tomlkit, so a keeper's comments and layout survive. If
the gate's database already holds another gate's entries, enrolment refuses rather than mixing two logs.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import httpx
import tomlkit
from tomlkit.exceptions import TOMLKitError

from kiosk.config import DEFAULT_CONFIG, KioskConfig, config_path, load_config
from kiosk.store import GateStore
from sync.core.bundle import SigningKeyError, fingerprint, load_public_key
from kiosk.uplink.client import HqClient, SyncError
from kiosk.uplink.files import write_atomic
from kiosk.uplink.tls import NotVouched, TlsError, der_to_pem, is_loopback, pinned_context, presented_certificate
from sync.core.protocol import GateInfo
from sync.core.i18n import _
from sync.core.secret_files import write_secret
from sync.core.tls import CertificateError, certificate_fingerprint, normal_fingerprint

TOKEN_FILE = "hq.token"
KEY_FILE = "hq-signing.pub.pem"
CERT_FILE = "hq-tls.pem"


class EnrolmentError(Exception):
    """Enrolment was refused and nothing was changed; the message says why and what to do."""


@dataclass(frozen=True)
class Enrolment:
    config_file: Path
    gate_id: str
    hq_url: str
    fingerprint: str
    key_changed: bool
    """The gate had pinned another HQ key before (and --fingerprint confirmed the new one)."""
    config: KioskConfig
    certificate: str | None = None
    """The fingerprint of HQ's TLS certificate, now pinned (None over plain http)."""


def enroll(
    explicit_config: Path | None,
    hq_url: str,
    token: str,
    *,
    expected_fingerprint: str | None = None,
    expected_certificate: str | None = None,
    insecure_http: bool = False,
    timeout: float = 15.0,
    transport: httpx.BaseTransport | None = None,
) -> Enrolment:
    """Check `token` against HQ, then write the gate's HQ settings. Raises EnrolmentError changing nothing.

    Over https, HQ's certificate is pinned: it must have `expected_certificate` as its fingerprint (what
    `pocket-hq gates add` prints), or without one be vouched for by an authority this laptop trusts. Plain
    http:// is refused, before anything is sent, unless HQ is on this machine or `insecure_http` is given."""
    url = hq_url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise EnrolmentError(_("{url!r} is not an http:// or https:// address").format(url=hq_url))
    if url.startswith("http://") and not insecure_http and not is_loopback(url):
        raise EnrolmentError(
            _(
                "refusing to enrol with HQ over plain http:// ({url}): the token and every entry would cross the "
                "network readable and changeable by anyone on it. Use HQ's https:// address (`pocket-hq serve "
                "--tls-cert ...`), or, only on a network you trust, add --insecure-http"
            ).format(url=url)
        )
    token = token.strip()
    if not token:
        raise EnrolmentError(_("the token is empty; copy it from `pocket-hq gates add`"))
    path = config_path(explicit_config) or DEFAULT_CONFIG
    current = load_config(path) if path.exists() else KioskConfig()
    certificate = _certificate(url, expected_certificate, current, timeout) if url.startswith("https://") else None
    verify = pinned_context(certificate) if certificate is not None else True
    try:
        with HqClient(url, token, timeout=timeout, retry_seconds=0, transport=transport, verify=verify) as client:
            info = client.whoami()
    except SyncError as exc:
        raise EnrolmentError(_("HQ did not accept the enrolment: {error}").format(error=exc)) from exc
    try:
        key = load_public_key(info.signing_key_pem, label="HQ's signing key")
    except SigningKeyError as exc:
        raise EnrolmentError(str(exc)) from exc
    seen = fingerprint(key)
    if seen != info.signing_key_fingerprint:
        raise EnrolmentError(_("HQ's signing key does not match the fingerprint it states; refusing to pin it"))
    wanted = (expected_fingerprint or "").replace(":", "").strip().lower()
    if wanted and wanted != seen:
        raise EnrolmentError(
            _("HQ's signing key fingerprint is {seen}, not the {wanted} you expected: refusing to pin it").format(
                seen=seen, wanted=wanted
            )
        )
    key_changed = _pinned_fingerprint(current) not in (None, seen)
    if key_changed and not wanted:
        raise EnrolmentError(
            _("HQ's signing key changed (now {seen}); if HQ really rotated its key, enrol again with --fingerprint "
              "{seen}").format(seen=seen)
        )
    if info.gate != current.gate_id and _holds_entries(current):
        raise EnrolmentError(
            _(
                "this token is for gate {gate}, but the gate database {database} holds entries of gate {own}; use "
                "{own}'s token, or a new database for {gate}"
            ).format(gate=info.gate, database=current.database, own=current.gate_id)
        )
    folder = path.parent
    token_file = current.hq_token_file or folder / TOKEN_FILE
    key_file = current.hq_key_file or folder / KEY_FILE
    cert_file = current.hq_cert_file or folder / CERT_FILE
    document = _read_document(path)
    for name, value in {
        "gate_id": info.gate,
        "hq_url": url,
        "hq_token_file": _relative(token_file, folder),
        "hq_key_file": _relative(key_file, folder),
    }.items():
        document[name] = value
    if certificate is not None:
        document["hq_cert_file"] = _relative(cert_file, folder)
    elif "hq_cert_file" in document:
        del document["hq_cert_file"]
    _continue_chain(current.database, info)
    write_secret(token_file, (token + "\n").encode("utf-8"), overwrite=True)
    write_atomic(key_file, info.signing_key_pem.encode())
    if certificate is not None:
        write_atomic(cert_file, certificate)
    write_atomic(path, tomlkit.dumps(document).encode("utf-8"))
    pinned = certificate_fingerprint(certificate) if certificate is not None else None
    return Enrolment(path, info.gate, url, seen, key_changed, load_config(path), pinned)


def _certificate(url: str, expected: str | None, current: KioskConfig, timeout: float) -> bytes:
    """HQ's certificate (PEM) to pin: the one it presents, if its fingerprint is the one expected; with none
    given, the one pinned before, or one an authority this laptop trusts vouches for in the same handshake."""
    try:
        wanted = normal_fingerprint(expected) if expected else None
    except CertificateError as exc:
        raise EnrolmentError(f"--tls-fingerprint: {exc}") from exc
    before = _pinned_certificate(current) if wanted is None else None
    try:
        presented = presented_certificate(url, timeout, vouched=wanted is None and before is None)
    except NotVouched as exc:
        raise EnrolmentError(
            _("{error}: give --tls-fingerprint as `pocket-hq gates add` printed it, to pin it").format(error=exc)
        ) from exc
    except TlsError as exc:
        raise EnrolmentError(str(exc)) from exc
    seen = certificate_fingerprint(presented)
    if before is not None and before != seen:
        raise EnrolmentError(
            _(
                "HQ's certificate changed (now {seen}, pinned {before}); if HQ really has a new one, enrol again "
                "with --tls-fingerprint {seen} as `pocket-hq gates token` prints it"
            ).format(seen=seen, before=before)
        )
    if wanted is not None and wanted != seen:
        raise EnrolmentError(
            _(
                "HQ at {url} presented a certificate with fingerprint {seen}, not the {wanted} you were given: "
                "refusing to enrol (something between this gate and HQ may be posing as HQ)"
            ).format(url=url, seen=seen, wanted=wanted)
        )
    return der_to_pem(presented)


def _pinned_certificate(config: KioskConfig) -> str | None:
    if config.hq_cert_file is None or not config.hq_cert_file.exists():
        return None
    try:
        return certificate_fingerprint(config.hq_cert_file.read_bytes())
    except CertificateError:
        return None


def _pinned_fingerprint(config: KioskConfig) -> str | None:
    if config.hq_key_file is None or not config.hq_key_file.exists():
        return None
    try:
        return fingerprint(load_public_key(config.hq_key_file.read_bytes()))
    except SigningKeyError:
        return None


def _continue_chain(database: Path, info: GateInfo) -> None:
    """A gate HQ already holds entries of, enrolled on an empty database (a new laptop after a loss), carries on
    the gate's chain from HQ's copy."""
    if info.chain_seq and info.chain_hash:
        with GateStore(database, info.gate) as store:
            store.continue_chain(info.chain_seq, info.chain_hash)


def _holds_entries(config: KioskConfig) -> bool:
    if not config.database.exists():
        return False
    try:
        with sqlite3.connect(f"file:{config.database}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT 1 FROM entries LIMIT 1").fetchone() is not None
    except sqlite3.Error:
        return False


def _relative(path: Path, folder: Path) -> str:
    try:
        return str(path.resolve().relative_to(folder.resolve()))
    except ValueError:
        return str(path)


def _read_document(path: Path) -> tomlkit.TOMLDocument:
    """The config as an editable document that keeps comments and layout (a new one if there is no file)."""
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()
    except (OSError, TOMLKitError, UnicodeDecodeError) as exc:
        raise EnrolmentError(_("cannot edit config file {path}: {error}").format(path=path, error=exc)) from exc
