"""The trust PGC1 codes need: our issuers' public keys (PEM `PUBLIC KEY`, Ed25519 or ECDSA P-256), each looked
up by its key id, the first 8 bytes of the SHA-256 of its SubjectPublicKeyInfo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cwt import COSEKey

from sync.core.codes.trust import DocumentPart, TrustError, TrustParser, key_id

ISSUER_KEY = "PGC1 issuer key"
"""What a summary counts these as."""


@dataclass(frozen=True)
class TrustedKey:
    """A PGC1 issuer public key."""

    kid: bytes
    cose_key: COSEKey
    label: str
    """Where the key came from (file name or bundle), for messages and the settings screen."""


class IssuerKeys:
    """The PGC1 section of a trust list."""

    def __init__(self) -> None:
        self._keys: dict[bytes, TrustedKey] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, kid: bytes) -> TrustedKey | None:
        """The issuer key with this key id."""
        return self._keys.get(kid)

    def add(self, key: TrustedKey) -> None:
        self._keys[key.kid] = key

    def merge(self, other: Self) -> None:
        self._keys.update(other._keys)

    def storage_problem(self) -> str | None:
        return None


def read_issuer_key(pem: bytes, label: str) -> TrustedKey:
    """One PEM public key (Ed25519 or ECDSA P-256) as a PGC1 issuer key."""
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
    return TrustedKey(kid=kid, cose_key=COSEKey.from_pem(pem, alg=alg, kid=kid), label=label)


def _read_public_key(block: bytes, part: DocumentPart) -> bool:
    part.section(IssuerKeys).add(read_issuer_key(block, part.where))
    part.summary.add(ISSUER_KEY)
    return True


PARSERS = (TrustParser("pem", "PUBLIC KEY", "pem", "PEM", _read_public_key),)
"""PEM `PUBLIC KEY` blocks, alone in a `*.pub.pem` file or among certificates."""
