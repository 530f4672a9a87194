"""Property tests: whatever text a camera hands over, the code parser raises nothing but CodeError."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from pathlib import Path

import base45
import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.codes import CodeError, TrustList, read_code
from kiosk.codes.pgc import PREFIX

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


def assert_only_code_errors(text: str, trust: TrustList) -> None:
    try:
        read_code(text, trust, NOW)
    except CodeError:
        pass


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
