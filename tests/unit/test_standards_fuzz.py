"""Property tests: whatever a camera hands over, the HC1 and SHC parsers raise nothing but CodeError, even for
content that carries a valid signature (so the schema and FHIR paths see hostile structures too); whatever
they accept was signed by a trusted key (checked again apart from the parser, tests/genuine.py), while the same
content under a trusted key id but another key's signature is refused; and a compression bomb costs almost no
memory."""

from __future__ import annotations

import tracemalloc
import zlib
from datetime import timedelta

import base45
import cbor2
import pytest
from cwt import COSE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.core.codes import CodeError, Reason, TrustList, read_code
from sync.core.codes.shc import SHC
from tests.genuine import assert_genuine
from tests.standards_certs import (
    NOW,
    DocumentSignerKeys,
    ShcIssuer,
    dcc_payload,
    dcc_test_entry,
    deflate,
    hc1,
    lab_result,
    patient,
    shc_chunks,
    shc_payload,
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
    dsc_untrusted,
    dsc_vaccination_only,
    shc_issuer,
    shc_other_issuer,
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
    """The parser raises nothing but CodeError, and what it accepts is genuine (tests/genuine.py)."""
    try:
        credential = fmt.verify(text, trust, NOW) if fmt is not None else read_code(text, trust, NOW)
    except CodeError:
        return
    assert_genuine(text, credential, trust)


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
    token = sign_shc(shc_issuer, shc_payload())
    chunks = shc_chunks(token, count)
    fmt = SHC()
    sequence = [chunks[i] for i in order if i < len(chunks)]
    for chunk in sequence[:-1]:
        try:
            fmt.verify(chunk, trust, NOW)
        except CodeError as error:
            assert error.reason is Reason.INCOMPLETE
    credential = fmt.verify(sequence[-1], trust, NOW)
    assert credential.format == "SHC"
    assert_genuine(sequence[-1], credential, trust, token=token)


names = st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=12)


@FUZZ
@given(st.integers(1, 71), names, names)
def test_valid_certificates_are_accepted_only_with_the_trusted_signature(
    trust: TrustList, dsc: DocumentSignerKeys, dsc_untrusted: DocumentSignerKeys, hours: int, given: str, family: str
) -> None:
    """Every well-formed DCC a trusted signer signs is accepted, and is genuine; the same content signed by
    another key under the trusted signer's key id is refused as forged."""
    payload = dcc_payload("t", [dcc_test_entry(NOW - timedelta(hours=hours))], nam={"fn": family, "fnt": "X", "gn": given})
    text = hc1(sign_dcc(dsc, payload))
    credential = read_code(text, trust, NOW)
    assert_genuine(text, credential, trust)
    claims = {1: "XA", 6: int(NOW.timestamp()) - 60, 4: int(NOW.timestamp()) + 3600, -260: {1: payload}}
    forged = COSE.new().encode_and_sign(cbor2.dumps(claims), dsc_untrusted.cose_key(), protected={1: -7, 4: dsc.kid})
    with pytest.raises(CodeError) as caught:
        read_code(hc1(forged), trust, NOW)
    assert caught.value.reason is Reason.BAD_SIGNATURE


@FUZZ
@given(st.integers(1, 71), names, names)
def test_valid_cards_are_accepted_only_with_the_trusted_signature(
    trust: TrustList, shc_issuer: ShcIssuer, shc_other_issuer: ShcIssuer, hours: int, given: str, family: str
) -> None:
    payload = shc_payload([patient(given, family), lab_result(NOW - timedelta(hours=hours))])
    text = shc_text(sign_shc(shc_issuer, payload))
    credential = SHC().verify(text, trust, NOW)
    assert_genuine(text, credential, trust)
    header = {"alg": "ES256", "zip": "DEF", "kid": shc_issuer.kid}
    with pytest.raises(CodeError) as caught:
        SHC().verify(shc_text(sign_shc(shc_other_issuer, payload, header=header)), trust, NOW)
    assert caught.value.reason is Reason.BAD_SIGNATURE


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
