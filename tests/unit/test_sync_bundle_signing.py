"""Signed bundles: the pinned key verifies them; anything altered, re-signed by another key or malformed is
refused with a reason before a single field of the content is believed."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.core.bundle import (
    BundleError,
    SigningKeyError,
    create_signing_key,
    fingerprint,
    load_public_key,
    load_signing_key,
    public_pem,
    sign_bundle,
    verify_bundle,
)
from sync.core.protocol import BundleContent, ColourRow


@pytest.fixture
def key(tmp_path: Path) -> Ed25519PrivateKey:
    return create_signing_key(tmp_path / "hq.key.pem")


def _content() -> BundleContent:
    return BundleContent(
        gate="north-gate", version=7, issued_at=datetime(2026, 11, 23, tzinfo=UTC),
        colour_list=[ColourRow(subject="ab" * 16, colour="red", note="close contact")],
    )


def test_a_signed_bundle_verifies_with_the_pinned_key(key: Ed25519PrivateKey) -> None:
    pinned = load_public_key(public_pem(key))

    content = verify_bundle(sign_bundle(_content(), key), pinned)

    assert content == _content()
    assert fingerprint(pinned) == fingerprint(key)


def _edit(data: bytes, change: Callable[[dict[str, Any]], object]) -> bytes:
    envelope = json.loads(data)
    change(envelope)
    return json.dumps(envelope).encode()


def _swap_colour(envelope: dict[str, Any]) -> None:
    payload = base64.b64decode(envelope["payload"]).replace(b'"red"', b'"yellow"')
    envelope["payload"] = base64.b64encode(payload).decode()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (_swap_colour, "signature is invalid"),
        (lambda e: e.update(signature=base64.b64encode(b"\0" * 64).decode()), "signature is invalid"),
        (lambda e: e.update(key_id="00" * 8), "not the HQ key this gate pinned"),
        (lambda e: e.update(payload="%%%"), "not base64"),
        (lambda e: e.update(protocol=2), "protocol 2"),
        (lambda e: e.update(alg="none"), "malformed"),
        (lambda e: e.pop("signature"), "malformed"),
    ],
    ids=["content", "signature", "key-id", "encoding", "protocol", "alg-none", "unsigned"],
)
def test_an_altered_bundle_is_refused(
    key: Ed25519PrivateKey, change: Callable[[dict[str, Any]], object], words: str
) -> None:
    data = _edit(sign_bundle(_content(), key), change)

    with pytest.raises(BundleError, match=words):
        verify_bundle(data, load_public_key(public_pem(key)))


def test_a_bundle_signed_by_another_key_is_refused(key: Ed25519PrivateKey, tmp_path: Path) -> None:
    rogue = create_signing_key(tmp_path / "rogue.pem")

    with pytest.raises(BundleError, match="not the HQ key"):
        verify_bundle(sign_bundle(_content(), rogue), load_public_key(public_pem(key)))


@pytest.mark.parametrize("data", [b"", b"null", b"{}", b"\xff" * 10, b"[" * 100_000])
def test_garbage_is_refused_as_malformed(key: Ed25519PrivateKey, data: bytes) -> None:
    with pytest.raises(BundleError, match="malformed"):
        verify_bundle(data, load_public_key(public_pem(key)))


def test_signing_keys_are_private_and_never_overwritten(key: Ed25519PrivateKey, tmp_path: Path) -> None:
    path = tmp_path / "hq.key.pem"
    assert path.stat().st_mode & 0o777 == 0o600
    assert fingerprint(load_signing_key(path)) == fingerprint(key)
    with pytest.raises(SigningKeyError, match="never overwritten"):
        create_signing_key(path)
    with pytest.raises(SigningKeyError, match="signing-key init"):
        load_signing_key(tmp_path / "missing.pem")
    with pytest.raises(SigningKeyError, match="not a PEM public key"):
        load_public_key("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
