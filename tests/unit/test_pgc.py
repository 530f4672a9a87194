"""PGC1 codes: issued by `pocket-hq issue`, verified by the gate's parser, every failure with its own reason."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import base45
import cbor2
import pytest
from cbor2 import CBORTag
from cwt import COSE

from sync.core.codes import CodeError, Colour, Reason, TrustList, read_code
from sync.core.codes.keys import load_issuer_key
from sync.core.codes.pgc import MAX_COSE_BYTES, MAX_TEXT_CHARS, PREFIX, issue_code
from sync.core.identity import load_district_key, subject_hash
from tests.helpers import IssueCode, make_resident_id


@pytest.fixture(scope="module")
def trust(hq_keys: Path) -> TrustList:
    return TrustList.from_dir(hq_keys / "trust")


def now() -> datetime:
    return datetime.now(UTC)


def reason_of(text: str, trust: TrustList, at: datetime | None = None) -> Reason:
    with pytest.raises(CodeError) as caught:
        read_code(text, trust, at or now())
    return caught.value.reason


def _unwrap(text: str) -> CBORTag:
    return cbor2.loads(zlib.decompress(base45.b45decode(text[len(PREFIX) :])))


def _wrap(message: CBORTag | bytes) -> str:
    raw = message if isinstance(message, bytes) else cbor2.dumps(message)
    return PREFIX + base45.b45encode(zlib.compress(raw)).decode()


def test_issued_code_verifies_with_every_claim(issue: IssueCode, trust: TrustList, hq_keys: Path) -> None:
    text = issue(serial=7, colour="yellow", extra=("--tested-at", "2026-01-02T03:04:05Z", "--travel-risk"))
    credential = read_code(text, trust, now())
    district_key = load_district_key(hq_keys / "district.key")
    assert credential.subject == subject_hash(district_key, make_resident_id(7))
    assert credential.name == "Z**** S**"
    assert credential.colour is Colour.YELLOW
    assert credential.negative_test_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert credential.travel_risk is True
    assert credential.format == "PGC1"
    assert credential.expires_at - credential.issued_at == timedelta(hours=24)
    assert text.isascii() and len(text) < 400


def test_es256_issuer_verifies(issue: IssueCode, other_keys: Path) -> None:
    text = issue(keys=other_keys)
    credential = read_code(text, TrustList.from_dir(other_keys / "trust"), now())
    assert credential.colour is Colour.GREEN


def test_forged_signature_is_refused(issue: IssueCode, trust: TrustList) -> None:
    message = _unwrap(issue())
    signature = bytearray(message.value[3])
    signature[10] ^= 0x01
    message.value[3] = bytes(signature)
    assert reason_of(_wrap(message), trust) is Reason.BAD_SIGNATURE


def test_altered_claims_with_original_signature_are_refused(issue: IssueCode, trust: TrustList) -> None:
    message = _unwrap(issue(colour="red"))
    claims = cbor2.loads(message.value[2])
    claims[-70000][2] = "green"
    message.value[2] = cbor2.dumps(claims)
    assert reason_of(_wrap(message), trust) is Reason.BAD_SIGNATURE


def test_code_from_unknown_issuer_is_refused(issue: IssueCode, other_keys: Path, trust: TrustList) -> None:
    assert reason_of(issue(keys=other_keys), trust) is Reason.UNKNOWN_ISSUER


def test_expired_and_not_yet_valid(issue: IssueCode, trust: TrustList) -> None:
    text = issue(extra=("--hours", "2"))
    assert read_code(text, trust, now() + timedelta(hours=1))
    assert reason_of(text, trust, now() + timedelta(hours=2, seconds=5)) is Reason.EXPIRED
    assert reason_of(text, trust, now() - timedelta(hours=1)) is Reason.NOT_YET_VALID


def test_truncated_code_is_malformed(issue: IssueCode, trust: TrustList) -> None:
    text = issue()
    for cut in (len(PREFIX) + 3, len(text) // 2, len(text) - 3):
        assert reason_of(text[:cut], trust) is Reason.MALFORMED


def test_oversized_text_is_refused_before_decoding(trust: TrustList) -> None:
    assert reason_of(PREFIX + "A" * MAX_TEXT_CHARS, trust) is Reason.TOO_LARGE


def test_zlib_bomb_is_refused_without_inflating_it(trust: TrustList) -> None:
    bomb = zlib.compress(b"\0" * 1_000_000, 9)
    text = PREFIX + base45.b45encode(bomb).decode()
    assert len(text) < MAX_TEXT_CHARS
    assert reason_of(text, trust) is Reason.TOO_LARGE


def test_random_bytes_non_utf8_and_other_prefixes(trust: TrustList) -> None:
    assert reason_of("hello world", trust) is Reason.NOT_OURS
    assert reason_of("https://example.org/PGC1:", trust) is Reason.NOT_OURS
    assert reason_of(bytes(range(256)).decode("latin-1"), trust) is Reason.NOT_OURS
    assert reason_of(PREFIX + "\udcff\x00\x1b[2J", trust) is Reason.MALFORMED
    assert reason_of(PREFIX + base45.b45encode(zlib.compress(bytes(range(256)))).decode(), trust) is Reason.MALFORMED


def test_markup_laden_payload_without_signature_is_malformed(trust: TrustList) -> None:
    assert reason_of(PREFIX + "[bold red]GREEN[/]", trust) is Reason.MALFORMED


def test_wrong_claim_types_are_malformed_even_when_signed(hq_keys: Path, trust: TrustList) -> None:
    key = load_issuer_key(hq_keys)
    claims = {1: "hq", 2: "a" * 32, 4: "tomorrow", 6: 0, -70000: {1: "A*", 2: "green"}}
    signed = COSE.new().encode_and_sign(cbor2.dumps(claims), key.cose_key, protected={1: key.alg, 4: key.kid})
    with pytest.raises(CodeError) as caught:
        read_code(_wrap(signed), trust, now())
    assert caught.value.reason is Reason.MALFORMED
    assert "exp" in str(caught.value)


def test_unknown_claims_are_malformed_even_when_signed(hq_keys: Path, trust: TrustList) -> None:
    key = load_issuer_key(hq_keys)
    t = int(now().timestamp())
    claims = {1: "hq", 2: "a" * 32, 4: t + 60, 6: t, -70000: {1: "A*", 2: "green", 9: "x"}}
    signed = COSE.new().encode_and_sign(cbor2.dumps(claims), key.cose_key, protected={1: key.alg, 4: key.kid})
    assert reason_of(_wrap(signed), trust) is Reason.MALFORMED


def test_signed_markup_name_is_kept_literally(hq_keys: Path, trust: TrustList) -> None:
    """A name is data: the parser keeps it as given; escaping is the display's job (see test_report)."""
    key = load_issuer_key(hq_keys)
    name = "[bold red]X[/]\x1b[2J"
    text = issue_code(
        key, issuer="hq", subject="b" * 32, name=name, colour=Colour.GREEN,
        issued_at=now(), expires_at=now() + timedelta(hours=1),
    )
    assert read_code(text, trust, now()).name == name


def test_kid_in_unprotected_header_only_is_malformed(issue: IssueCode, trust: TrustList) -> None:
    message = _unwrap(issue())
    protected = cbor2.loads(message.value[0])
    kid = protected.pop(4)
    message.value[0] = cbor2.dumps(protected)
    message.value[1] = {4: kid}
    assert reason_of(_wrap(message), trust) is Reason.MALFORMED


def test_size_limits_are_sane() -> None:
    assert MAX_COSE_BYTES >= 1024 and MAX_TEXT_CHARS >= 1024


def test_signed_times_beyond_year_9999_are_malformed_not_a_crash(hq_keys: Path, trust: TrustList) -> None:
    key = load_issuer_key(hq_keys)
    t = int(now().timestamp())
    claims = {1: "hq", 2: "a" * 32, 4: 2**39, 6: t, -70000: {1: "A*", 2: "green", 3: 2**38}}
    signed = COSE.new().encode_and_sign(cbor2.dumps(claims), key.cose_key, protected={1: key.alg, 4: key.kid})
    assert reason_of(_wrap(signed), trust) is Reason.MALFORMED
