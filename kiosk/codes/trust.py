"""The gate's trust list: every key a code may be signed with, read from files the gate or HQ hands over.

Three kinds of entry, one per family of formats, each looked up by the key id its codes carry:
- issuer public keys for our own PGC1 codes (PEM `PUBLIC KEY`), by the first 8 bytes of the SHA-256 of the
  SubjectPublicKeyInfo;
- EU DCC document-signer certificates (X.509, PEM or DER), by the first 8 bytes of the SHA-256 of the
  certificate, with their validity period and the extended key usages that restrict them to test,
  vaccination or recovery entries;
- SMART Health Card issuer keys (a JWKS, or a directory of issuers with their JWKS and revocation lists), by
  the JWK thumbprint, each bound to the issuer URL its cards carry, with the revoked `rid`s.

Key ids are derived from the key material itself, so a file name or a `kid` field can never lie about them.
`TrustList.add_document(data, label)` takes the bytes of any such file: the gate's folder, `pocket-kiosk trust
import`, `check --trust FILE` and the HQ bundle all feed it the same way.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cwt import COSEKey, load_pem_hcert_dsc
from cwt.cose_key_interface import COSEKeyInterface
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from kiosk.codes.base import EvidenceKind

PUBLIC_KEY_SUFFIX = ".pub.pem"
TRUST_FILE_PATTERNS = ("*.pem", "*.crt", "*.cer", "*.der", "*.json")
"""Files `from_dir` reads (`*.pub.pem`, our issuer keys, is among `*.pem`)."""
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
"""A national DSC list or a directory of SMART Health Card issuers is a few MB at most."""
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

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----", re.DOTALL)


class TrustError(Exception):
    """A trust file could not be read; the message names the file and the problem."""


def key_id(public_key: ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey) -> bytes:
    """First 8 bytes of SHA-256 over the DER SubjectPublicKeyInfo."""
    spki = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).digest()[:8]


def certificate_kid(certificate: x509.Certificate) -> bytes:
    """The EU DCC key id: first 8 bytes of SHA-256 over the DER certificate."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest()[:8]


@dataclass(frozen=True)
class TrustedKey:
    """A PGC1 issuer public key."""

    kid: bytes
    cose_key: COSEKey
    label: str
    """Where the key came from (file name or bundle), for messages and the settings screen."""


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


@dataclass(frozen=True)
class ShcKey:
    """A SMART Health Card issuer's ES256 public key."""

    kid: str
    """The RFC 7638 thumbprint of the key (base64url), which is what cards name."""
    key: ECKey = field(compare=False)
    issuer: str | None = None
    """The `iss` its cards must carry; None when the file named no issuer (only `check --trust FILE`)."""
    label: str = field(default="", compare=False)


@dataclass
class TrustSummary:
    """What one trust document held, for the import command and the HQ bundle's report."""

    label: str
    kind: str
    """'pem', 'x509-der', 'jwks', 'shc-directory' or 'shc-crl'."""
    pgc_keys: int = 0
    signers: int = 0
    shc_keys: int = 0
    revocations: int = 0
    skipped: list[str] = field(default_factory=list)
    """Entries left out, each with why (e.g. an encryption key in a JWKS)."""

    @property
    def entries(self) -> int:
        return self.pgc_keys + self.signers + self.shc_keys + self.revocations

    def contents(self) -> str:
        """What it held, in words: '1 EU DCC document signer, 2 SMART Health Card issuer keys'."""
        parts = [
            f"{count} {name}{'' if count == 1 else 's'}"
            for count, name in (
                (self.pgc_keys, "PGC1 issuer key"),
                (self.signers, "EU DCC document signer"),
                (self.shc_keys, "SMART Health Card issuer key"),
                (self.revocations, "revoked SMART Health Card id"),
            )
            if count
        ]
        text = ", ".join(parts) or "nothing usable"
        if self.skipped:
            shown = "; ".join(self.skipped[:3]) + ("..." if len(self.skipped) > 3 else "")
            text += f" ({len(self.skipped)} skipped: {shown})"
        return text

    def describe(self) -> str:
        return f"{self.label}: {self.contents()}"


class TrustList:
    """Keys and certificates the gate believes, looked up by key id."""

    def __init__(self, keys: list[TrustedKey] | None = None) -> None:
        self._keys: dict[bytes, TrustedKey] = {}
        self._signers: dict[bytes, list[DocumentSigner]] = defaultdict(list)
        self._shc_keys: dict[str, list[ShcKey]] = defaultdict(list)
        self._revoked: dict[str, dict[str, datetime | None]] = defaultdict(dict)
        self.updated_at: datetime | None = None
        """When the stored trust list was last refreshed (import or HQ sync); None when it came from files
        only, which have no freshness to judge."""
        for key in keys or []:
            self._keys[key.kid] = key

    def __len__(self) -> int:
        return len(self._keys) + sum(map(len, self._signers.values())) + sum(map(len, self._shc_keys.values()))

    # -- lookups -----------------------------------------------------------------------------------------

    def get(self, kid: bytes) -> TrustedKey | None:
        """The PGC1 issuer key with this key id."""
        return self._keys.get(kid)

    def signers(self, kid: bytes) -> list[DocumentSigner]:
        """Every DSC with this key id (8-byte ids can collide; the spec says to try them all)."""
        return list(self._signers.get(kid, ()))

    def shc_keys(self, kid: str) -> list[ShcKey]:
        return list(self._shc_keys.get(kid, ()))

    def has_unbound_shc_keys(self) -> bool:
        """Whether some SMART Health Card key is trusted for any issuer (a JWKS that named none)."""
        return any(key.issuer is None for keys in self._shc_keys.values() for key in keys)

    def revoked(self, kid: str, rid: str, issued_at: datetime) -> bool:
        """Whether the SMART Health Card with this revocation id, signed by `kid` at `issued_at`, is revoked.
        A revocation entry `rid.timestamp` revokes only cards issued before that time."""
        entries = self._revoked.get(kid)
        if not entries or rid not in entries:
            return False
        before = entries[rid]
        return before is None or issued_at < before

    # -- adding ------------------------------------------------------------------------------------------

    def add_pem(self, pem: bytes, label: str) -> TrustedKey:
        """Trust one PEM public key (Ed25519 or ECDSA P-256) for PGC1 codes."""
        try:
            public_key = serialization.load_pem_public_key(pem)
        except ValueError as exc:
            raise TrustError(f"{label}: not a PEM public key") from exc
        if isinstance(public_key, ec.EllipticCurvePublicKey) and not isinstance(public_key.curve, ec.SECP256R1):
            raise TrustError(f"{label}: only P-256 ECDSA keys are accepted, not {public_key.curve.name}")
        if not isinstance(public_key, (ed25519.Ed25519PublicKey, ec.EllipticCurvePublicKey)):
            raise TrustError(f"{label}: only Ed25519 and ECDSA P-256 keys are accepted")
        kid = key_id(public_key)
        alg = "EdDSA" if isinstance(public_key, ed25519.Ed25519PublicKey) else "ES256"
        trusted = TrustedKey(kid=kid, cose_key=COSEKey.from_pem(pem, alg=alg, kid=kid), label=label)
        self._keys[kid] = trusted
        return trusted

    def add_document(self, data: bytes, label: str, *, shc_issuer: str | None = None) -> TrustSummary:
        """Trust everything in one file's bytes: PEM (public keys and certificates), a DER certificate, a
        JWKS, a directory of SMART Health Card issuers, or a SMART Health Card revocation list.

        The whole document is read before anything is added, so a bad file changes nothing. `shc_issuer`
        binds the keys of a JWKS that does not name its issuer (`iss`)."""
        if len(data) > MAX_DOCUMENT_BYTES:
            raise TrustError(f"{label}: {len(data)} bytes is too large for a trust file")
        staged = TrustList()
        stripped = data.lstrip()
        if stripped.startswith(b"{"):
            summary = staged._add_json(stripped, label, shc_issuer)
        elif b"-----BEGIN" in data:
            summary = staged._add_pem_blocks(data, label)
        else:
            summary = TrustSummary(label, "x509-der")
            try:
                certificate = x509.load_der_x509_certificate(data)
            except ValueError as exc:
                raise TrustError(
                    f"{label}: not a trust file (expected PEM, a DER certificate, a JWKS or an issuer directory)"
                ) from exc
            staged._add_certificate(certificate, label, summary)
        if summary.entries == 0:
            why = f" ({'; '.join(summary.skipped)})" if summary.skipped else ""
            raise TrustError(f"{label}: holds no key or certificate the gate can use{why}")
        self.merge(staged)
        return summary

    def merge(self, other: TrustList) -> None:
        """Add every entry of another trust list."""
        self._keys.update(other._keys)
        for kid, signers in other._signers.items():
            mine = self._signers[kid]
            mine.extend(signer for signer in signers if signer not in mine)
        for kid, keys in other._shc_keys.items():
            known = self._shc_keys[kid]
            known.extend(key for key in keys if key not in known)
        for kid, rids in other._revoked.items():
            self._revoked[kid].update(rids)

    # -- loading -----------------------------------------------------------------------------------------

    @classmethod
    def from_dir(cls, folder: Path) -> TrustList:
        """Every trust file in `folder` (`*.pem`, `*.crt`, `*.cer`, `*.der`, `*.json`). A missing folder is an
        error: a gate that trusts nothing by accident would refuse everyone, so the keeper must see why."""
        if not folder.is_dir():
            raise TrustError(f"trusted keys folder {folder} does not exist")
        trust = cls()
        paths = sorted({path for pattern in TRUST_FILE_PATTERNS for path in folder.glob(pattern) if path.is_file()})
        for path in paths:
            trust.add_document(read_trust_file(path), label=path.name)
        return trust

    @classmethod
    def from_file(cls, path: Path) -> TrustList:
        """The keys of one trust file alone (`check --trust FILE`). A JWKS that names no issuer is trusted
        for the cards that name its keys, whatever issuer they claim: a diagnosis, not a gate's trust."""
        trust = cls()
        trust.add_document(read_trust_file(path), label=path.name)
        return trust

    # -- parsing -----------------------------------------------------------------------------------------

    def _add_pem_blocks(self, data: bytes, label: str) -> TrustSummary:
        summary = TrustSummary(label, "pem")
        blocks = list(_PEM_BLOCK.finditer(data))
        if not blocks:
            raise TrustError(f"{label}: PEM markers without a complete block")
        for number, block in enumerate(blocks, start=1):
            kind = block.group(1).decode("ascii")
            where = f"{label} block {number}" if len(blocks) > 1 else label
            if kind == "CERTIFICATE":
                try:
                    certificate = x509.load_pem_x509_certificate(block.group(0))
                except ValueError as exc:
                    raise TrustError(f"{where}: damaged certificate") from exc
                self._add_certificate(certificate, where, summary)
            elif kind == "PUBLIC KEY":
                self.add_pem(block.group(0), where)
                summary.pgc_keys += 1
            elif "PRIVATE KEY" in kind:
                raise TrustError(f"{where}: holds a private key; give gates only public keys and certificates")
            else:
                summary.skipped.append(f"{where}: {kind} is not a key or certificate")
        return summary

    def _add_certificate(self, certificate: x509.Certificate, label: str, summary: TrustSummary) -> None:
        public_key = certificate.public_key()
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            if not isinstance(public_key.curve, ec.SECP256R1):
                summary.skipped.append(f"{label}: {public_key.curve.name} key (EU DCC signs with P-256 or RSA)")
                return
        elif isinstance(public_key, rsa.RSAPublicKey):
            if public_key.key_size < MIN_RSA_BITS:
                summary.skipped.append(f"{label}: RSA key of {public_key.key_size} bits")
                return
        else:
            summary.skipped.append(f"{label}: {type(public_key).__name__} (EU DCC signs with P-256 or RSA)")
            return
        pem = certificate.public_bytes(serialization.Encoding.PEM)
        der = certificate.public_bytes(serialization.Encoding.DER)
        country = certificate.subject.get_attributes_for_oid(x509.NameOID.COUNTRY_NAME)
        signer = DocumentSigner(
            kid=certificate_kid(certificate),
            fingerprint=hashlib.sha256(der).digest(),
            cose_key=load_pem_hcert_dsc(pem),
            subject=certificate.subject.rfc4514_string(),
            country=str(country[0].value) if country else None,
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
            usages=_dcc_usages(certificate),
            label=label,
        )
        if signer not in self._signers[signer.kid]:
            self._signers[signer.kid].append(signer)
        summary.signers += 1

    def _add_json(self, data: bytes, label: str, shc_issuer: str | None) -> TrustSummary:
        try:
            document = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise TrustError(f"{label}: not valid JSON") from exc
        if not isinstance(document, dict):
            raise TrustError(f"{label}: a JSON trust file is an object")
        if "participating_issuers" in document:
            summary = TrustSummary(label, "shc-directory")
            issuers = document["participating_issuers"]
            if not isinstance(issuers, list):
                raise TrustError(f"{label}: participating_issuers is not a list")
            for number, entry in enumerate(issuers, start=1):
                if not isinstance(entry, dict) or not isinstance(entry.get("issuer"), dict):
                    raise TrustError(f"{label}: issuer {number} has no issuer object")
                iss = _issuer_url(entry["issuer"].get("iss"), f"{label} issuer {number}")
                self._add_jwks(entry, iss, f"{label} [{iss}]", summary)
            return summary
        if "keys" in document:
            summary = TrustSummary(label, "jwks")
            iss = document.get("iss", shc_issuer)
            self._add_jwks(document, _issuer_url(iss, label) if iss is not None else None, label, summary)
            return summary
        if "rids" in document:
            summary = TrustSummary(label, "shc-crl")
            self._add_crl(document, label, summary)
            return summary
        raise TrustError(f"{label}: JSON that is neither a JWKS, an issuer directory nor a revocation list")

    def _add_jwks(self, document: dict[str, Any], iss: str | None, label: str, summary: TrustSummary) -> None:
        keys = document.get("keys")
        if not isinstance(keys, list):
            raise TrustError(f"{label}: `keys` is not a list")
        for number, raw in enumerate(keys, start=1):
            where = f"{label} key {number}"
            if not isinstance(raw, dict):
                raise TrustError(f"{where}: not a JSON object")
            if raw.get("kty") != "EC" or raw.get("crv") != "P-256" or raw.get("use", "sig") != "sig":
                summary.skipped.append(f"{where}: not an ES256 signing key")
                continue
            if "d" in raw:
                raise TrustError(f"{where}: holds a private key; give gates only the public JWKS")
            try:
                key = ECKey.import_key(raw)
            except (JoseError, ValueError, TypeError) as exc:
                raise TrustError(f"{where}: not a valid P-256 key ({exc})") from exc
            thumbprint = key.thumbprint()
            if raw.get("kid", thumbprint) != thumbprint:
                raise TrustError(f"{where}: its kid is not its JWK thumbprint, as SMART Health Cards require")
            entry = ShcKey(kid=thumbprint, key=key, issuer=iss, label=label)
            if entry not in self._shc_keys[thumbprint]:
                self._shc_keys[thumbprint].append(entry)
            summary.shc_keys += 1
        for crl in document.get("crls") or []:
            self._add_crl(crl, label, summary)

    def _add_crl(self, crl: Any, label: str, summary: TrustSummary) -> None:
        if not isinstance(crl, dict) or not isinstance(crl.get("kid"), str) or not isinstance(crl.get("rids"), list):
            raise TrustError(f"{label}: a revocation list needs `kid` and `rids`")
        if crl.get("method", "rid") != "rid":
            summary.skipped.append(f"{label}: revocation method {crl.get('method')!r} is not supported")
            return
        for entry in crl["rids"]:
            if not isinstance(entry, str) or not entry:
                raise TrustError(f"{label}: revoked ids are non-empty strings")
            rid, _, stamp = entry.partition(".")
            before: datetime | None = None
            if stamp:
                try:
                    if not stamp.isdigit() or len(stamp) > 12:
                        raise ValueError(stamp)
                    before = datetime.fromtimestamp(int(stamp), UTC)
                except (ValueError, OverflowError, OSError) as exc:  # past the year 9999 too
                    raise TrustError(f"{label}: revoked id {entry[:40]!r} has a bad timestamp") from exc
            self._revoked[crl["kid"]][rid] = before
            summary.revocations += 1


def _dcc_usages(certificate: x509.Certificate) -> frozenset[EvidenceKind] | None:
    try:
        usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return None
    kinds = frozenset(DCC_KEY_USAGES[oid.dotted_string] for oid in usages if oid.dotted_string in DCC_KEY_USAGES)
    return kinds or None


def _issuer_url(iss: Any, label: str) -> str:
    if not isinstance(iss, str) or not iss.startswith("https://") or iss.endswith("/") or len(iss) > 512:
        raise TrustError(f"{label}: an issuer is an https:// URL without a trailing slash")
    return iss


def read_trust_file(path: Path) -> bytes:
    """A trust file's bytes, refusing one too large to be genuine before reading it."""
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise TrustError(f"{path.name}: {size} bytes is too large for a trust file")
        return path.read_bytes()
    except OSError as exc:
        raise TrustError(f"cannot read trust file {path}: {exc.strerror}") from exc
