"""The shared pieces of every code format: what each failure reason says about the verification steps, the
words an error and an evidence entry are shown in, bounded decompression to the byte, and the issuer's keys
folder (made once, never overwritten, the private key readable by its owner only)."""

from __future__ import annotations

import stat
import zlib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from sync.core.codes.base import Checks, CodeError, Evidence, EvidenceKind, Reason, TestResult, TestType
from sync.core.codes.inflate import RAW_DEFLATE, inflate
from sync.core.codes.keys import PRIVATE_KEY_FILE, TRUST_SUBDIR, IssuerKeyError, create_issuer_keys, load_issuer_key

IMPLIED = {
    Reason.BAD_SIGNATURE: Checks(signature_valid=False),
    Reason.EXPIRED: Checks(signature_valid=True, expired=True),
    Reason.NOT_YET_VALID: Checks(signature_valid=True, expired=True),
    Reason.SIGNER_EXPIRED: Checks(signature_valid=True, expired=True),
    Reason.SCHEMA_INVALID: Checks(signature_valid=True, schema_valid=False),
    Reason.MULTIPLE_ENTRIES: Checks(signature_valid=True, schema_valid=False),
    Reason.WRONG_KEY_USAGE: Checks(signature_valid=True, key_usage_ok=False),
    Reason.REVOKED: Checks(signature_valid=True),
}


@pytest.mark.parametrize("reason", list(Reason))
def test_each_reason_says_which_steps_ran(reason: Reason) -> None:
    assert Checks.implied_by(reason) == IMPLIED.get(reason, Checks())
    assert CodeError(reason).checks == IMPLIED.get(reason, Checks())


def test_an_error_reads_as_its_reason_and_detail() -> None:
    assert str(CodeError(Reason.EXPIRED)) == "code has expired"
    assert str(CodeError(Reason.EXPIRED, "valid until noon")) == "code has expired: valid until noon"
    assert CodeError(Reason.EXPIRED).detail == ""


@pytest.mark.parametrize(
    ("evidence", "words"),
    [
        (Evidence(EvidenceKind.TEST), "test of unknown type result unknown"),
        (Evidence(EvidenceKind.TEST, TestType.RAPID, TestResult.POSITIVE, datetime(2026, 1, 2, 3, 4, tzinfo=UTC)),
         "rapid antigen test positive, sampled 2026-01-02 03:04 UTC"),
        (Evidence(EvidenceKind.VACCINATION, dose=1), "vaccination dose 1"),
        (Evidence(EvidenceKind.VACCINATION, dose=2, doses=2, vaccinated_on=date(2026, 1, 2)),
         "vaccination dose 2 of 2 on 2026-01-02"),
        (Evidence(EvidenceKind.RECOVERY), "recovery, valid"),
        (Evidence(EvidenceKind.RECOVERY, valid_from=date(2026, 1, 1)), "recovery, valid"),
        (Evidence(EvidenceKind.RECOVERY, valid_until=date(2026, 1, 1)), "recovery, valid"),
        (Evidence(EvidenceKind.RECOVERY, valid_from=date(2026, 1, 1), valid_until=date(2026, 6, 1)),
         "recovery, valid 2026-01-01 to 2026-06-01"),
    ],
)  # fmt: skip
def test_evidence_in_plain_words(evidence: Evidence, words: str) -> None:
    assert evidence.describe() == words


def test_inflating_stops_exactly_at_the_limit() -> None:
    data = bytes(range(256)) * 4
    assert inflate(zlib.compress(data), len(data)) == data
    with pytest.raises(CodeError) as caught:
        inflate(zlib.compress(data), len(data) - 1)
    assert (caught.value.reason, str(caught.value)) == (
        Reason.TOO_LARGE, f"code is too large to be genuine: zlib decompression stopped: more than {len(data) - 1} bytes")  # fmt: skip
    raw = zlib.compressobj(9, zlib.DEFLATED, RAW_DEFLATE)
    deflated = raw.compress(data) + raw.flush()
    assert inflate(deflated, len(data), RAW_DEFLATE) == data
    with pytest.raises(CodeError, match="raw DEFLATE decompression stopped: more than 1023 bytes"):
        inflate(deflated, len(data) - 1, RAW_DEFLATE)


def test_a_stream_that_stops_at_the_limit_with_input_left_is_too_large() -> None:
    """The limit is reached with compressed input still unread: refused, not cut short silently."""
    data = b"\x00" * 5000
    with pytest.raises(CodeError) as caught:
        inflate(zlib.compress(data), 4999)
    assert caught.value.reason is Reason.TOO_LARGE


def test_a_keys_folder_is_made_once_with_a_private_key_for_its_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    (folder / TRUST_SUBDIR).mkdir(parents=True)  # an installer may have made the folders already
    kid = create_issuer_keys(folder)
    key = load_issuer_key(folder)

    assert (key.kid, key.alg, key.cose_key.kid) == (kid, -8, kid)
    assert stat.S_IMODE((folder / PRIVATE_KEY_FILE).stat().st_mode) == 0o600
    assert (folder / TRUST_SUBDIR / f"{kid.hex()}.pub.pem").exists()
    with pytest.raises(IssuerKeyError, match=f"^{folder / PRIVATE_KEY_FILE} already exists; keys are never overwritten$"):
        create_issuer_keys(folder)
    with pytest.raises(IssuerKeyError, match="^unknown algorithm 'RS256'; use Ed25519 or ES256$"):
        create_issuer_keys(tmp_path / "other", "RS256")  # type: ignore[arg-type]
    create_issuer_keys(tmp_path / "es", "ES256")
    assert load_issuer_key(tmp_path / "es").alg == -7


def test_a_keys_folder_that_cannot_sign_says_why(tmp_path: Path) -> None:
    path = tmp_path / PRIVATE_KEY_FILE
    with pytest.raises(IssuerKeyError, match=rf"^no issuer key at {path} \(No such file or directory\); run `pocket-hq keys init --dir {tmp_path}`$"):
        load_issuer_key(tmp_path)
    path.write_text("not a key")
    with pytest.raises(IssuerKeyError, match=f"^{path} is not a PEM private key$"):
        load_issuer_key(tmp_path)
    for key in (ec.generate_private_key(ec.SECP384R1()), rsa.generate_private_key(65537, 2048)):
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
        with pytest.raises(IssuerKeyError, match=f"^{path}: only Ed25519 and ECDSA P-256 issuer keys are supported$"):
            load_issuer_key(tmp_path)
