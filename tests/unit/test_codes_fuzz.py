"""Property tests: whatever text a camera hands over, the code parser raises nothing but CodeError, and a code it
does accept was signed by a key the gate trusts (checked again apart from the parser, tests/genuine.py)."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import base45
import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.core.codes import CodeError, Reason, TrustList, read_code
from sync.core.codes.keys import IssuerKey, create_issuer_keys, load_issuer_key
from sync.core.codes.pgc import PREFIX
from tests.genuine import assert_genuine
from cwt import COSE

NOW = datetime(2026, 11, 23, tzinfo=UTC)
BASE45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.binary(max_size=40),
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.integers(-70001, 10) | st.text(max_size=3), inner, max_size=5)
    | st.builds(cbor2.CBORTag, st.integers(0, 300), inner),
    max_leaves=20,
)


@pytest.fixture(scope="module")
def trust(hq_keys: Path) -> TrustList:
    return TrustList.from_dir(hq_keys / "trust")


@pytest.fixture(scope="module")
def issuer(hq_keys: Path) -> IssuerKey:
    """The trusted issuer's own private key: what is fuzzed below carries a genuine signature."""
    return load_issuer_key(hq_keys)


def signed(issuer: IssuerKey, payload: bytes) -> str:
    """A PGC1 text around `payload`, signed exactly as `issue_code` signs (COSE_Sign1, kid in the protected
    header), so the claims parser is reached."""
    message = COSE.new().encode_and_sign(payload, issuer.cose_key, protected={1: issuer.alg, 4: issuer.kid})
    return PREFIX + base45.b45encode(zlib.compress(message)).decode()


def assert_only_code_errors(text: str, trust: TrustList) -> None:
    try:
        credential = read_code(text, trust, NOW)
    except CodeError:
        return
    assert_genuine(text, credential, trust)


@FUZZ
@given(st.text(max_size=3000))
def test_any_text(trust: TrustList, text: str) -> None:
    assert_only_code_errors(text, trust)


@FUZZ
@given(st.text(alphabet=BASE45_ALPHABET, max_size=600))
def test_any_base45_after_prefix(trust: TrustList, body: str) -> None:
    assert_only_code_errors(PREFIX + body, trust)


@FUZZ
@given(st.binary(max_size=800))
def test_any_compressed_bytes(trust: TrustList, payload: bytes) -> None:
    assert_only_code_errors(PREFIX + base45.b45encode(zlib.compress(payload)).decode(), trust)


@FUZZ
@given(cbor_values)
def test_any_cbor_structure(trust: TrustList, value: object) -> None:
    try:
        raw = cbor2.dumps(value)
    except (ValueError, TypeError, OverflowError):
        return
    assert_only_code_errors(PREFIX + base45.b45encode(zlib.compress(raw)).decode(), trust)


@FUZZ
@given(
    st.binary(max_size=60), st.dictionaries(st.integers(-10, 10), cbor_values, max_size=3), st.binary(max_size=200),
    st.binary(max_size=80),
)
def test_any_cose_sign1_shape(trust: TrustList, protected: bytes, unprotected: dict, payload: bytes, sig: bytes) -> None:
    message = cbor2.CBORTag(18, [protected, unprotected, payload, sig])
    try:
        raw = cbor2.dumps(message)
    except (ValueError, TypeError, OverflowError):
        return
    assert_only_code_errors(PREFIX + base45.b45encode(zlib.compress(raw)).decode(), trust)


claim_values = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=40), st.binary(max_size=20),
    st.lists(st.integers(), max_size=3),
)


@FUZZ
@given(cbor_values)
def test_signed_claims_of_any_shape(trust: TrustList, issuer: IssuerKey, claims: object) -> None:
    """A genuinely signed code whose claims are anything at all."""
    try:
        payload = cbor2.dumps(claims)
    except (ValueError, TypeError, OverflowError):
        return
    assert_only_code_errors(signed(issuer, payload), trust)


@FUZZ
@given(
    st.fixed_dictionaries(
        {},
        optional={
            1: claim_values, 2: claim_values, 4: claim_values, 6: claim_values,
            -70000: st.dictionaries(st.integers(0, 6) | st.text(max_size=2), claim_values, max_size=6) | claim_values,
        },
    )
)
def test_signed_claims_close_to_a_real_code(trust: TrustList, issuer: IssuerKey, claims: dict) -> None:
    """Signed claims keyed like a real code's (iss, sub, exp, iat and the private claim) with values of any
    type or size: types, ranges, timestamps out of range and missing fields all end as a CodeError."""
    assert_only_code_errors(signed(issuer, cbor2.dumps(claims)), trust)



@pytest.fixture(scope="module")
def rogue(tmp_path_factory: pytest.TempPathFactory) -> IssuerKey:
    """An issuer the gate does not trust, of the same algorithm as the trusted one."""
    folder = tmp_path_factory.mktemp("rogue-fuzz") / "keys"
    create_issuer_keys(folder)
    return load_issuer_key(folder)


def _epoch(days: int) -> int:
    return int((NOW + timedelta(days=days)).timestamp())


valid_claims = st.fixed_dictionaries(
    {
        1: st.text(min_size=1, max_size=64), 2: st.text(alphabet="0123456789abcdef", min_size=32, max_size=32),
        6: st.integers(_epoch(-30), _epoch(0) - 1), 4: st.integers(_epoch(0) + 1, _epoch(30)),
        -70000: st.fixed_dictionaries(
            {1: st.text(max_size=64), 2: st.sampled_from(["green", "yellow", "red"])},
            optional={3: st.integers(0, _epoch(0)), 4: st.booleans()},
        ),
    }
)  # fmt: skip


@FUZZ
@given(valid_claims)
def test_valid_claims_are_accepted_only_with_the_trusted_signature(
    trust: TrustList, issuer: IssuerKey, rogue: IssuerKey, claims: dict
) -> None:
    """Every well-formed code the trusted issuer signs is accepted, and is genuine; the same claims signed by
    another key under the trusted key's id are refused as forged."""
    text = signed(issuer, cbor2.dumps(claims))
    credential = read_code(text, trust, NOW)
    assert_genuine(text, credential, trust)
    assert (credential.issuer, credential.subject, credential.colour.value) == (claims[1], claims[2], claims[-70000][2])  # type: ignore[union-attr]
    message = COSE.new().encode_and_sign(cbor2.dumps(claims), rogue.cose_key, protected={1: rogue.alg, 4: issuer.kid})
    forged = PREFIX + base45.b45encode(zlib.compress(message)).decode()
    with pytest.raises(CodeError) as caught:
        read_code(forged, trust, NOW)
    assert caught.value.reason is Reason.BAD_SIGNATURE
