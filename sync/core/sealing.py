"""Sealing a typed ID number to HQ: the gate can write it, only HQ can read it back.

An ID number typed at a gate that is on none of the gate's lists has no district subject there (the district
key stays at HQ), so the gate logs it with its gate-keyed hash and the number itself sealed to HQ's public key;
HQ opens it on ingest and files the entry under the person's district subject, so tracing finds them. The seal
is HPKE (RFC 9180, base mode: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305) from `cryptography`:
each seal has its own ephemeral key, and nothing the gate holds can open one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.asymmetric import x25519

from sync.core.identity import normalise_id

SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
INFO = b"pocket-gate sealed ID number v1"
"""Binds a seal to its purpose: a seal made for anything else does not open as an ID number."""
MAX_SEALED_CHARS = 400


class SealError(Exception):
    """A seal cannot be made or opened (a bad key, a damaged or foreign seal); the message says which."""


def seal_public_pem(key: x25519.X25519PrivateKey | x25519.X25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, x25519.X25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def seal_key_id(key: x25519.X25519PrivateKey | x25519.X25519PublicKey) -> str:
    """The first 8 bytes (hex) of the SHA-256 of the public key's raw bytes: which HQ key a seal was made for."""
    public = key.public_key() if isinstance(key, x25519.X25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_seal_public_key(pem: str | bytes) -> x25519.X25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    except ValueError as exc:
        raise SealError("HQ's sealing key is not a PEM public key") from exc
    if not isinstance(key, x25519.X25519PublicKey):
        raise SealError("HQ's sealing key is not an X25519 public key")
    return key


def seal_id(public_key: x25519.X25519PublicKey, id_number: str, doc_type: str) -> str:
    """The ID number (normalised, with its document type) sealed to HQ, as base64 text for the entry's details."""
    message = f"{doc_type}:{normalise_id(id_number)}".encode()
    return base64.b64encode(SUITE.encrypt(message, public_key, info=INFO)).decode("ascii")


def open_sealed_id(private_key: x25519.X25519PrivateKey, sealed: str) -> tuple[str, str]:
    """(document type, ID number) from a seal made by `seal_id` for this key. Raises SealError."""
    if len(sealed) > MAX_SEALED_CHARS:
        raise SealError(f"a sealed ID number is at most {MAX_SEALED_CHARS} characters")
    try:
        data = base64.b64decode(sealed, validate=True)
        message = SUITE.decrypt(data, private_key, info=INFO).decode("ascii")
    except (binascii.Error, ValueError, InvalidTag, UnicodeDecodeError) as exc:
        raise SealError("the sealed ID number does not open with HQ's key (damaged, or sealed to another key)") from exc
    doc_type, _, id_number = message.rpartition(":")
    if not doc_type or not id_number:
        raise SealError("the sealed ID number is not a document type and a number")
    return doc_type, id_number
