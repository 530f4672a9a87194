"""HQ's bundle signing and the district's identity helpers, exactly: each refusal's words, the size limits to
the byte, keys written for their owner only into folders made on the way, names masked letter by letter."""

from __future__ import annotations

import base64
import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.core.identity import (
    DistrictKeyError,
    create_district_key,
    load_district_key,
    mask_name,
    resident_id_check_digit,
)
from sync.core.bundle import (
    BundleError,
    SigningKeyError,
    create_signing_key,
    load_public_key,
    load_signing_key,
    public_pem,
    sign_bundle,
    verify_bundle,
)
from sync.core.protocol import MAX_BUNDLE_BYTES, BundleContent


def content() -> BundleContent:
    return BundleContent(gate="north-gate", version=7, issued_at=datetime(2026, 11, 23, tzinfo=UTC))


def refusal(data: bytes, key: Ed25519PrivateKey) -> str:
    with pytest.raises(BundleError) as caught:
        verify_bundle(data, key.public_key())
    return str(caught.value)


def envelope(key: Ed25519PrivateKey, **changes: object) -> bytes:
    return json.dumps(json.loads(sign_bundle(content(), key)) | changes).encode()


def test_signing_keys_are_made_in_new_folders_for_their_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "hq" / "keys" / "signing.pem"
    key = create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_pem(load_signing_key(path)) == public_pem(key) == public_pem(key.public_key())


def test_unusable_signing_keys_say_why(tmp_path: Path) -> None:
    path = tmp_path / "signing.pem"
    path.write_text("not a key")
    with pytest.raises(SigningKeyError, match=f"^{path} is not an unencrypted PEM private key$"):
        load_signing_key(path)
    path.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))  # fmt: skip
    with pytest.raises(SigningKeyError, match=f"^{path} is not an Ed25519 key$"):
        load_signing_key(path)
    p256 = ec.generate_private_key(ec.SECP256R1()).public_key()
    pem = p256.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(SigningKeyError, match="^HQ signing key is not an Ed25519 public key$"):
        load_public_key(pem)
    with pytest.raises(SigningKeyError, match="^the pinned key is not an Ed25519 public key$"):
        load_public_key(pem.decode(), "the pinned key")
    assert load_public_key(public_pem(Ed25519PrivateKey.generate()).encode())


def test_bundle_refusals_say_why(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    signed = json.loads(sign_bundle(content(), key))
    payload = base64.b64decode(signed["payload"])

    assert refusal(b"x" * (MAX_BUNDLE_BYTES + 1), key) == (
        f"bundle of {MAX_BUNDLE_BYTES + 1} bytes is larger than the {MAX_BUNDLE_BYTES} a gate accepts")  # fmt: skip
    assert refusal(b"x" * MAX_BUNDLE_BYTES, key).startswith("bundle is malformed: ")
    assert refusal(envelope(key, signature="***"), key) == "bundle payload or signature is not base64"
    assert refusal(envelope(key, signature=signed["signature"] + "*"), key) == "bundle payload or signature is not base64"
    other = base64.b64encode(payload.replace(b'"version":7', b'"version":8')).decode()
    assert refusal(envelope(key, payload=other), key) == "bundle signature is invalid: it was altered or not signed by HQ"


def signed_payload(key: Ed25519PrivateKey, payload: bytes) -> bytes:
    return envelope(key, payload=base64.b64encode(payload).decode(), signature=base64.b64encode(key.sign(payload)).decode())


def test_bundle_content_problems_name_the_first_field_and_count_the_rest() -> None:
    key = Ed25519PrivateKey.generate()
    one = json.loads(content().model_dump_json()) | {"version": "seven"}
    assert refusal(signed_payload(key, json.dumps(one).encode()), key) == (
        "bundle content is invalid: version: Input should be a valid integer, unable to parse string as an integer")  # fmt: skip
    three = one | {"gate": 5, "issued_at": "never"}
    assert refusal(signed_payload(key, json.dumps(three).encode()), key).endswith(" (and 2 more)")
    two = one | {"gate": 5}
    assert refusal(signed_payload(key, json.dumps(two).encode()), key).endswith(" (and 1 more)")
    nested = json.loads(content().model_dump_json()) | {"colour_list": [{"subject": "ab" * 16, "colour": "blue", "note": ""}]}
    assert refusal(signed_payload(key, json.dumps(nested).encode()), key).startswith(
        "bundle content is invalid: colour_list.0.colour: ")  # fmt: skip
    assert refusal(signed_payload(key, b"[1]"), key) == (
        "bundle content is invalid: body: Input should be an object")  # fmt: skip
    newer = json.loads(content().model_dump_json()) | {"protocol": 99}
    assert refusal(signed_payload(key, json.dumps(newer).encode()), key) == (
        "bundle content uses protocol 99; update this gate's software")  # fmt: skip


# -- identity ------------------------------------------------------------------------------------------------


def test_a_district_key_is_made_in_new_folders_for_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "hq" / "keys" / "district.key"
    key = create_district_key(path)
    assert len(key) == 32 and load_district_key(path) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_district_key_needs_sixteen_bytes(tmp_path: Path) -> None:
    path = tmp_path / "district.key"
    path.write_text("ab" * 16)
    assert load_district_key(path) == bytes.fromhex("ab" * 16)
    path.write_text("ab" * 15)
    with pytest.raises(DistrictKeyError, match="holds a district key of 15 bytes; at least 16 are needed$"):
        load_district_key(path)


@pytest.mark.parametrize(
    ("name", "masked"),
    [("Li", "L*"), ("L", "L*"), ("Zhang San", "Z**** S**"), ("张三", "张*"), ("张", "张*"), ("  ", ""),
     ("Ana Li Wu", "A** L* W*")],
)  # fmt: skip
def test_names_are_masked_letter_by_letter(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_the_check_digit_needs_exactly_seventeen_digits() -> None:
    assert resident_id_check_digit("11010519491231002") == "X"
    for wrong in ("1101051949123100", "110105194912310021"):
        with pytest.raises(ValueError):
            resident_id_check_digit(wrong)
