"""Issuer key pairs: created by HQ (`pocket-hq keys init`), the private half kept, the public half handed to gates.

Layout of a keys folder:
    issuer.key.pem            private key (PKCS#8, owner-only permissions)
    trust/<kid>.pub.pem       public key, the form `--trust DIR` and the gate's trust list read
    district.key              the district HMAC key for ID-number hashes (stays at HQ: gates get keys of their own)
    retired/<kid>.key.pem     an issuer key rotated out (`pocket-hq keys rotate`), and its retired/<kid>.pub.pem
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cwt import COSEKey

from sync.core.codes.trust import PUBLIC_KEY_SUFFIX, key_id
from sync.core.identity import create_district_key
from sync.core.secret_files import write_secret

Algorithm = Literal["Ed25519", "ES256"]
PRIVATE_KEY_FILE = "issuer.key.pem"
TRUST_SUBDIR = "trust"
DISTRICT_KEY_FILE = "district.key"


class IssuerKeyError(Exception):
    """The keys folder is missing, incomplete or would be overwritten."""


@dataclass(frozen=True)
class IssuerKey:
    kid: bytes
    alg: int
    """COSE algorithm number: -8 EdDSA, -7 ES256."""
    cose_key: COSEKey


def create_issuer_keys(folder: Path, algorithm: Algorithm = "Ed25519") -> bytes:
    """Create a new issuer key pair and district key in `folder`; return the key id. Never overwrites."""
    kid = create_issuer_key_pair(folder, algorithm)
    if not (folder / DISTRICT_KEY_FILE).exists():
        create_district_key(folder / DISTRICT_KEY_FILE)
    return kid


def create_issuer_key_pair(folder: Path, algorithm: Algorithm = "Ed25519") -> bytes:
    """Create a new issuer key pair alone in `folder` (its private key and trust/ public key); return the key
    id. Never overwrites."""
    private_path = folder / PRIVATE_KEY_FILE
    if private_path.exists():
        raise IssuerKeyError(f"{private_path} already exists; keys are never overwritten")
    private_key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
    if algorithm == "Ed25519":
        private_key = ed25519.Ed25519PrivateKey.generate()
    elif algorithm == "ES256":
        private_key = ec.generate_private_key(ec.SECP256R1())
    else:
        raise IssuerKeyError(f"unknown algorithm {algorithm!r}; use Ed25519 or ES256")
    kid = key_id(private_key.public_key())
    (folder / TRUST_SUBDIR).mkdir(parents=True, exist_ok=True)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        write_secret(private_path, pem)
    except FileExistsError as exc:
        raise IssuerKeyError(f"{private_path} already exists; keys are never overwritten") from exc
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (folder / TRUST_SUBDIR / f"{kid.hex()}{PUBLIC_KEY_SUFFIX}").write_bytes(public_pem)
    return kid


def load_issuer_key(folder: Path) -> IssuerKey:
    """The private issuer key of a keys folder, ready to sign."""
    path = folder / PRIVATE_KEY_FILE
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise IssuerKeyError(f"no issuer key at {path} ({exc.strerror}); run `pocket-hq keys init --dir {folder}`") from exc
    try:
        private_key = serialization.load_pem_private_key(pem, password=None)
    except ValueError as exc:
        raise IssuerKeyError(f"{path} is not a PEM private key") from exc
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        alg = -8
    elif isinstance(private_key, ec.EllipticCurvePrivateKey) and isinstance(private_key.curve, ec.SECP256R1):
        alg = -7
    else:
        raise IssuerKeyError(f"{path}: only Ed25519 and ECDSA P-256 issuer keys are supported")
    kid = key_id(private_key.public_key())
    return IssuerKey(kid=kid, alg=alg, cose_key=COSEKey.from_pem(pem, kid=kid))
