"""Signing HQ bundles (HQ side) and verifying them (gate side), with Ed25519 from `cryptography`.

HQ signs the exact payload bytes; the gate checks the signature with the key it pinned at enrolment before it
parses a single field, then validates the content. A bundle that fails any step is refused whole.

HQ's signing key can be rotated (`pocket-hq signing-key rotate`): the old key signs the new one (an
endorsement), and every bundle carries the endorsements since the first key. A gate that pinned an older key
follows them, each checked with the key before it, to the key that signed the bundle, and pins that one; a key
no endorsement from the pinned key leads to is refused as before.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from pydantic import ValidationError

from sync.core.codes.trust import key_id
from sync.core.secret_files import write_secret
from sync.core.protocol import BUNDLE_PROTOCOLS, MAX_BUNDLE_BYTES, BundleContent, KeyEndorsement, SignedBundle

ENDORSEMENT_CONTEXT = b"pocket-gate: the next HQ bundle-signing key\n"
"""Signed before the new key's DER, so an endorsement cannot be mistaken for (or made from) a bundle signature."""


class SigningKeyError(Exception):
    """HQ's signing key (or a gate's pinned copy of its public half) is missing or unusable."""


class BundleError(Exception):
    """A bundle was refused; the message says why. The gate keeps the lists it had."""


def create_signing_key(path: Path) -> ed25519.Ed25519PrivateKey:
    """Write a new Ed25519 private key (PKCS#8 PEM, owner-only). Never overwrites an existing key: every
    enrolled gate has pinned its public half."""
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    try:
        write_secret(path, pem)
    except FileExistsError as exc:
        raise SigningKeyError(f"{path} already exists; a signing key is never overwritten (gates pinned it)") from exc
    return key


def load_signing_key(path: Path) -> ed25519.Ed25519PrivateKey:
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(
            f"no bundle signing key at {path} ({exc.strerror}); create one with `pocket-hq signing-key init`"
        ) from exc
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"{path} is not an unencrypted PEM private key") from exc
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise SigningKeyError(f"{path} is not an Ed25519 key")
    return key


def public_pem(key: ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, ed25519.Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public_key(pem: str | bytes, label: str = "HQ signing key") -> ed25519.Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    except ValueError as exc:
        raise SigningKeyError(f"{label} is not a PEM public key") from exc
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise SigningKeyError(f"{label} is not an Ed25519 public key")
    return key


def fingerprint(key: ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey) -> str:
    """SHA-256 (hex) of the public key's DER SubjectPublicKeyInfo: what an installer compares at enrolment."""
    public = key.public_key() if isinstance(key, ed25519.Ed25519PrivateKey) else key
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def endorse(old: ed25519.Ed25519PrivateKey, new: ed25519.Ed25519PublicKey) -> KeyEndorsement:
    """The old signing key's word that `new` is HQ's next signing key."""
    der = new.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return KeyEndorsement(
        key_pem=public_pem(new),
        signed_by=key_id(old.public_key()).hex(),
        signature=base64.b64encode(old.sign(ENDORSEMENT_CONTEXT + der)).decode(),
    )


def sign_bundle(
    content: BundleContent, key: ed25519.Ed25519PrivateKey, endorsements: tuple[KeyEndorsement, ...] = ()
) -> bytes:
    """The signed bundle as the JSON bytes HQ serves, with the signing key's endorsements (oldest first)."""
    payload = content.model_dump_json().encode()
    envelope = SignedBundle(
        key_id=key_id(key.public_key()).hex(),
        payload=base64.b64encode(payload).decode(),
        signature=base64.b64encode(key.sign(payload)).decode(),
        endorsements=list(endorsements),
    )
    return envelope.model_dump_json().encode()


def verify_bundle(data: bytes, key: ed25519.Ed25519PublicKey) -> BundleContent:
    """Check the signature with the pinned key (or a key it endorsed), then parse the content. Raises
    BundleError with the reason."""
    return verify_signed_bundle(data, key)[0]


def verify_signed_bundle(data: bytes, pinned: ed25519.Ed25519PublicKey) -> tuple[BundleContent, ed25519.Ed25519PublicKey]:
    """The content and the key that signed it: the pinned key, or a later one the pinned key endorsed (directly
    or through the keys after it), which the gate pins from then on. Raises BundleError with the reason."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleError(f"bundle of {len(data)} bytes is larger than the {MAX_BUNDLE_BYTES} a gate accepts")
    try:
        envelope = SignedBundle.model_validate_json(data)
    except ValidationError as exc:
        raise BundleError(f"bundle is malformed: {_first_problem(exc)}") from exc
    if envelope.protocol not in BUNDLE_PROTOCOLS:
        raise BundleError(f"bundle uses protocol {envelope.protocol}; this gate speaks {sorted(BUNDLE_PROTOCOLS)}")
    key = _endorsed_key(envelope, pinned)
    try:
        payload = base64.b64decode(envelope.payload, validate=True)
        signature = base64.b64decode(envelope.signature, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BundleError("bundle payload or signature is not base64") from exc
    try:
        key.verify(signature, payload)
    except InvalidSignature as exc:
        raise BundleError("bundle signature is invalid: it was altered or not signed by HQ") from exc
    try:
        content = BundleContent.model_validate_json(payload)
    except ValidationError as exc:
        raise BundleError(f"bundle content is invalid: {_first_problem(exc)}") from exc
    if content.protocol not in BUNDLE_PROTOCOLS:
        raise BundleError(f"bundle content uses protocol {content.protocol}; update this gate's software")
    return content, key


def _endorsed_key(envelope: SignedBundle, pinned: ed25519.Ed25519PublicKey) -> ed25519.Ed25519PublicKey:
    """The key that signed the envelope, reached from the pinned key through checked endorsements."""
    key = pinned
    for endorsement in envelope.endorsements:  # oldest first; each step checked with the key before it
        if key_id(key).hex() == envelope.key_id:
            break
        if endorsement.signed_by != key_id(key).hex():
            continue
        try:
            new = load_public_key(endorsement.key_pem, label="an endorsed HQ signing key")
            der = new.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
            key.verify(base64.b64decode(endorsement.signature, validate=True), ENDORSEMENT_CONTEXT + der)
        except (SigningKeyError, InvalidSignature, binascii.Error, ValueError) as exc:
            raise BundleError(
                f"bundle carries an endorsement of HQ's signing key {endorsement.signed_by} that does not verify"
            ) from exc
        key = new
    if key_id(key).hex() != envelope.key_id:
        raise BundleError(
            f"bundle is signed by key {envelope.key_id}, not the HQ key this gate pinned ({key_id(pinned).hex()}) "
            "nor one it endorsed"
        )
    return key


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(map(str, error["loc"])) or "body"
    return f"{where}: {error['msg']}" + (f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else "")
