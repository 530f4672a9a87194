"""The gate's trust list: issuer public keys by key id, read from a folder of PEM files (and, later, HQ bundles).

A key id is the first 8 bytes of the SHA-256 of the key's SubjectPublicKeyInfo, as in the EU DCC, so both
sides derive it from the key itself and a file name can never lie about it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cwt import COSEKey

PUBLIC_KEY_SUFFIX = ".pub.pem"


class TrustError(Exception):
    """A trust file could not be read; the message names the file and the problem."""


def key_id(public_key: ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey) -> bytes:
    """First 8 bytes of SHA-256 over the DER SubjectPublicKeyInfo."""
    spki = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).digest()[:8]


@dataclass(frozen=True)
class TrustedKey:
    kid: bytes
    cose_key: COSEKey
    label: str
    """Where the key came from (file name or bundle), for messages and the settings screen."""


class TrustList:
    """Issuer keys the gate believes, looked up by key id."""

    def __init__(self, keys: list[TrustedKey] | None = None) -> None:
        self._keys: dict[bytes, TrustedKey] = {}
        for key in keys or []:
            self._keys[key.kid] = key

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, kid: bytes) -> TrustedKey | None:
        return self._keys.get(kid)

    def add_pem(self, pem: bytes, label: str) -> TrustedKey:
        """Trust one PEM public key (Ed25519 or ECDSA P-256)."""
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

    @classmethod
    def from_dir(cls, folder: Path) -> TrustList:
        """Every `*.pub.pem` file in `folder`. A missing folder is an error: a gate that trusts nothing by
        accident would refuse everyone, so the keeper must see why."""
        if not folder.is_dir():
            raise TrustError(f"trusted keys folder {folder} does not exist")
        trust = cls()
        for path in sorted(folder.glob(f"*{PUBLIC_KEY_SUFFIX}")):
            trust.add_pem(path.read_bytes(), label=path.name)
        return trust
