"""Property tests: whatever a camera hands over, the HC1 and SHC parsers raise nothing but CodeError, even for
content that carries a valid signature (so the schema and FHIR paths see hostile structures too), and a
compression bomb costs almost no memory."""

from __future__ import annotations

import tracemalloc
import zlib

import base45
import cbor2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.core.codes import CodeError, Reason, TrustList, read_code
from sync.core.codes.shc import SHC
from tests.standards_certs import (
    NOW,
    DocumentSignerKeys,
    ShcIssuer,
    deflate,
    hc1,
    shc_chunks,
    shc_text,
    sign_dcc,
    sign_shc,
)
from tests.standards_fixtures import (  # noqa: F401 - fixtures
    csca,
    dsc,
    dsc_expired,
    dsc_rsa,
    dsc_test_only,
    dsc_vaccination_only,
    shc_issuer,
    trust,
)

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BASE45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.binary(max_size=20)
cbor_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["ver", "nam", "dob", "v", "t", "r", "fn", "fnt", "sc", "tt", "tr", "tg"])
            | st.integers(-300, 10),
            inner,
            max_size=5,
        )
        | st.builds(cbor2.CBORTag, st.integers(0, 300), inner)
    ),
    max_leaves=25,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "iss",
                    "nbf",
                    "exp",
                    "vc",
                    "type",
                    "credentialSubject",
                    "fhirBundle",
                    "entry",
                    "resource",
                    "resourceType",
                    "rid",
                    "coding",
                    "code",
                    "status",
                ]
            )
            | st.text(max_size=5),
            inner,
            max_size=5,
        )
    ),  # fmt: skip
    max_leaves=25,
)


def only_code_errors(text: str, trust: TrustList, fmt: SHC | None = None) -> None:
    try:
        if fmt is not None:
            fmt.verify(text, trust, NOW)
        else:
            read_code(text, trust, NOW)
    except CodeError:
        pass


# -- HC1 -----------------------------------------------------------------------------------------------------


@FUZZ
@given(st.text(max_size=2000))
def test_hc1_any_text(trust: TrustList, body: str) -> None:
    only_code_errors("HC1:" + body, trust)


@FUZZ
@given(st.text(alphabet=BASE45_ALPHABET, max_size=800))
def test_hc1_any_base45(trust: TrustList, body: str) -> None:
    only_code_errors("HC1:" + body, trust)


@FUZZ
@given(st.binary(max_size=600))
def test_hc1_any_compressed_bytes(trust: TrustList, payload: bytes) -> None:
    only_code_errors(hc1(payload), trust)


@FUZZ
@given(cbor_values, st.dictionaries(st.integers(-5, 5), cbor_values, max_size=3), st.binary(max_size=80))
def test_hc1_any_cose_shape(trust: TrustList, protected: object, unprotected: dict, signature: bytes) -> None:
    try:
        message = cbor2.dumps(
            cbor2.CBORTag(18, [cbor2.dumps(protected), unprotected, cbor2.dumps(protected), signature])
        )
    except (ValueError, TypeError, OverflowError):
        return
    only_code_errors(hc1(message), trust)


@FUZZ
@given(cbor_values)
def test_hc1_signed_claims_of_any_shape(trust: TrustList, dsc: DocumentSignerKeys, claims: object) -> None:
    """A genuinely signed certificate whose claims are anything at all."""
    try:
        cose = sign_dcc(dsc, None, claims=claims)  # type: ignore[arg-type]
    except (ValueError, TypeError, OverflowError):
        return
    only_code_errors(hc1(cose), trust)


@FUZZ
@given(cbor_values)
def test_hc1_signed_dcc_of_any_shape(trust: TrustList, dsc: DocumentSignerKeys, dcc: object) -> None:
    """Valid CWT claims around a DCC that is anything at all: only the schema may object (or the CBOR decoder,
    for tagged values cbor2 cannot rebuild)."""
    claims = {1: "XA", 6: int(NOW.timestamp()) - 60, 4: int(NOW.timestamp()) + 3600, -260: {1: dcc}}
    try:
        cose = sign_dcc(dsc, None, claims=claims)
    except (ValueError, TypeError, OverflowError):
        return
    try:
        read_code(hc1(cose), trust, NOW)
    except CodeError as error:
        assert error.reason in (Reason.SCHEMA_INVALID, Reason.MULTIPLE_ENTRIES, Reason.MALFORMED)


# -- SHC -----------------------------------------------------------------------------------------------------


@FUZZ
@given(st.text(max_size=2000))
def test_shc_any_text(trust: TrustList, body: str) -> None:
    only_code_errors("shc:/" + body, trust, SHC())


@FUZZ
@given(st.text(alphabet="0123456789/", max_size=1500))
def test_shc_any_digits_and_slashes(trust: TrustList, body: str) -> None:
    fmt = SHC()
    only_code_errors("shc:/" + body, trust, fmt)
    only_code_errors("shc:/1/2/" + body, trust, fmt)


@FUZZ
@given(st.lists(st.text(alphabet=B64URL, max_size=300), min_size=1, max_size=5))
def test_shc_any_jws_like_text(trust: TrustList, parts: list[str]) -> None:
    only_code_errors(shc_text(".".join(parts)), trust, SHC())


@FUZZ
@given(json_values)
def test_shc_signed_payload_of_any_shape(trust: TrustList, shc_issuer: ShcIssuer, payload: object) -> None:
    """A genuinely signed card whose JSON payload is anything at all."""
    only_code_errors(shc_text(sign_shc(shc_issuer, payload)), trust, SHC())


@FUZZ
@given(st.binary(max_size=400))
def test_shc_signed_bytes_of_any_kind(trust: TrustList, shc_issuer: ShcIssuer, raw: bytes) -> None:
    only_code_errors(shc_text(sign_shc(shc_issuer, None, raw_payload=raw)), trust, SHC())
    only_code_errors(shc_text(sign_shc(shc_issuer, None, raw_payload=deflate(raw))), trust, SHC())


@FUZZ
@given(st.integers(2, 6), st.permutations(range(6)))
def test_shc_chunks_in_any_order(trust: TrustList, shc_issuer: ShcIssuer, count: int, order: list[int]) -> None:
    from tests.standards_certs import shc_payload

    chunks = shc_chunks(sign_shc(shc_issuer, shc_payload()), count)
    fmt = SHC()
    sequence = [chunks[i] for i in order if i < len(chunks)]
    for chunk in sequence[:-1]:
        try:
            fmt.verify(chunk, trust, NOW)
        except CodeError as error:
            assert error.reason is Reason.INCOMPLETE
    assert fmt.verify(sequence[-1], trust, NOW).format == "SHC"


# -- compression bombs ---------------------------------------------------------------------------------------


def test_bombs_are_refused_with_almost_no_memory(trust: TrustList, shc_issuer: ShcIssuer) -> None:
    """The first few KB of a stream of zeros inflate to megabytes; refusing them must allocate only a small
    fraction of that (the inflate limit, not the bomb's size)."""
    hc1_bomb = "HC1:" + base45.b45encode(zlib.compress(b"\x00" * 20_000_000, 9)[:2000]).decode()
    shc_bomb = shc_text(sign_shc(shc_issuer, None, raw_payload=deflate(b"\x00" * 20_000_000)[:400]))
    assert len(zlib.decompressobj().decompress(base45.b45decode(hc1_bomb[4:]))) > 1_000_000
    tracemalloc.start()
    try:
        reasons = []
        for text, fmt in ((hc1_bomb, None), (shc_bomb, SHC())):
            try:
                (fmt.verify(text, trust, NOW) if fmt else read_code(text, trust, NOW))
            except CodeError as error:
                reasons.append(error.reason)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reasons == [Reason.TOO_LARGE, Reason.TOO_LARGE]
    assert peak < 500_000, f"peak {peak} bytes"
