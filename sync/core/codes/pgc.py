"""PGC1: Pocket Gate's own health code, laid out like the EU Digital COVID Certificate.

    "PGC1:" + base45( zlib( COSE_Sign1( protected {alg, kid}, payload = CBOR claims ) ) )

Claims: 1 iss, 2 sub (keyed hash of the ID number), 4 exp, 6 iat (standard CWT keys) and one private claim
-70000 holding {1: masked name, 2: colour, 3: last negative test (epoch s), 4: travel-risk flag}.

Verification is strict and bounded: the text length is checked before base45, the decompressed size is capped
while inflating (a zlib bomb costs nothing), the signature is checked before any claim is believed, and every
claim is type-checked. COSE signing and verification are python-cwt's; this module only frames them.
"""

from __future__ import annotations

import binascii
import zlib
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import base45
import cbor2
from cbor2 import CBORTag
from cwt import COSE
from cwt.exceptions import VerifyError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from sync.core.codes.base import Colour, CodeError, Credential, Holder, Reason, past_expiry
from sync.core.codes.inflate import inflate
from sync.core.codes.keys import IssuerKey
from sync.core.codes.pgc_trust import PARSERS, IssuerKeys
from sync.core.codes.trust import TrustList

PREFIX = "PGC1:"
MAX_TEXT_CHARS = 2048
"""Our codes are ~220 characters; anything far larger is not ours, and is refused before any decoding."""
MAX_COSE_BYTES = 2048
"""Inflating stops here: a compressed bomb is refused after at most this many bytes of output."""
CLOCK_SKEW = timedelta(minutes=5)
"""A gate laptop's clock may run a little behind the issuer's."""
PRIVATE_CLAIM = -70000
COSE_SIGN1_TAG = 18
ALGORITHMS = {-8: "EdDSA", -7: "ES256"}

MAX_EPOCH = 253402300799
"""9999-12-31T23:59:59Z: Python's datetime ends there, so a later time is malformed, not a crash."""
_EPOCH = Annotated[int, Field(ge=0, le=MAX_EPOCH)]


class _Details(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
    name: Annotated[str, StringConstraints(max_length=64)]
    colour: Literal["green", "yellow", "red"]
    negative_test_at: _EPOCH | None = None
    travel_risk: bool | None = None


class _Claims(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
    iss: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    sub: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
    exp: _EPOCH
    iat: _EPOCH
    details: _Details


_CLAIM_NAMES = {1: "iss", 2: "sub", 4: "exp", 6: "iat", PRIVATE_CLAIM: "details"}
_DETAIL_NAMES = {1: "name", 2: "colour", 3: "negative_test_at", 4: "travel_risk"}


def _named(raw: Any, names: dict[int, str], what: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise CodeError(Reason.MALFORMED, f"{what} is not a map")
    unknown = [k for k in raw if k not in names]
    if unknown:
        raise CodeError(Reason.MALFORMED, f"{what} has unknown keys")
    return {names[k]: v for k, v in raw.items()}


def _loads(data: bytes, what: str) -> Any:
    """cbor2 on hostile bytes can raise many exception types (and RecursionError on deep nesting); each of
    them means the same thing to the gate."""
    try:
        return cbor2.loads(data)
    except Exception as exc:  # noqa: BLE001 - hostile input to a third-party decoder
        raise CodeError(Reason.MALFORMED, f"{what} is not valid CBOR") from exc


class PGC1:
    """The PGC1 code format (see module docstring)."""

    name = "PGC1"
    prefixes = (PREFIX,)
    trust_parsers = PARSERS

    def verify(self, text: str, trust: TrustList, now: datetime) -> Credential:
        if not text.startswith(PREFIX):
            raise CodeError(Reason.NOT_OURS)
        if len(text) > MAX_TEXT_CHARS:
            raise CodeError(Reason.TOO_LARGE, f"{len(text)} characters")
        try:
            compressed = base45.b45decode(text[len(PREFIX) :])
        except (ValueError, binascii.Error) as exc:
            raise CodeError(Reason.MALFORMED, "not valid base45") from exc
        message = _loads(inflate(compressed, MAX_COSE_BYTES), "signed message")
        if not (isinstance(message, CBORTag) and message.tag == COSE_SIGN1_TAG):
            raise CodeError(Reason.MALFORMED, "not a COSE_Sign1 message")
        parts = message.value
        if not (isinstance(parts, list) and len(parts) == 4 and isinstance(parts[0], bytes)):
            raise CodeError(Reason.MALFORMED, "COSE_Sign1 has the wrong shape")
        protected = _loads(parts[0], "protected header") if parts[0] else {}
        if not isinstance(protected, dict):
            raise CodeError(Reason.MALFORMED, "protected header is not a map")
        alg, kid = protected.get(1), protected.get(4)
        if not isinstance(alg, int) or alg not in ALGORITHMS:  # a hostile header's value may be unhashable
            raise CodeError(Reason.MALFORMED, "unsupported signature algorithm")
        if not isinstance(kid, bytes):
            raise CodeError(Reason.MALFORMED, "no key id in the protected header")
        trusted = trust.section(IssuerKeys).get(kid)
        if trusted is None:
            raise CodeError(Reason.UNKNOWN_ISSUER, f"key id {kid.hex()}")
        if trusted.cose_key.alg != alg:
            raise CodeError(Reason.BAD_SIGNATURE, "algorithm does not match the issuer's key")
        try:
            payload = COSE.new().decode(message, trusted.cose_key)
        except VerifyError as exc:
            raise CodeError(Reason.BAD_SIGNATURE) from exc
        except Exception as exc:  # noqa: BLE001 - cwt raises ValueError/DecodeError/KeyError on odd shapes
            raise CodeError(Reason.MALFORMED, "signed message cannot be verified") from exc
        claims = self._claims(_loads(payload, "claims"))
        issued_at = datetime.fromtimestamp(claims.iat, UTC)
        expires_at = datetime.fromtimestamp(claims.exp, UTC)
        details = claims.details
        holder = Holder(subject=claims.sub, name=details.name)
        if now + CLOCK_SKEW < issued_at:
            raise CodeError(Reason.NOT_YET_VALID, f"issued {issued_at:%Y-%m-%d %H:%M} UTC", holder=holder)
        if past_expiry(now, expires_at):
            raise CodeError(Reason.EXPIRED, f"valid until {expires_at:%Y-%m-%d %H:%M} UTC", holder=holder)
        return Credential(
            format=self.name,
            issuer=claims.iss,
            kid=kid.hex(),
            subject=claims.sub,
            name=details.name,
            colour=Colour(details.colour),
            issued_at=issued_at,
            expires_at=expires_at,
            negative_test_at=(
                datetime.fromtimestamp(details.negative_test_at, UTC) if details.negative_test_at is not None else None
            ),
            travel_risk=details.travel_risk,
        )

    @staticmethod
    def _claims(raw: Any) -> _Claims:
        named = _named(raw, _CLAIM_NAMES, "claims")
        named["details"] = _named(named.get("details"), _DETAIL_NAMES, "private claim")
        try:
            claims = _Claims.model_validate(named)
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in err["loc"]) for err in exc.errors())
            raise CodeError(Reason.MALFORMED, f"bad claims: {fields}") from exc
        if claims.exp <= claims.iat:
            raise CodeError(Reason.MALFORMED, "expires before it was issued")
        return claims


def _as_cbor_map(model: BaseModel, names: dict[int, str]) -> dict[int, Any]:
    values = dict(model)
    return {key: values[name] for key, name in names.items() if values[name] is not None}


def issue_code(
    key: IssuerKey,
    *,
    issuer: str,
    subject: str,
    name: str,
    colour: Colour,
    issued_at: datetime,
    expires_at: datetime,
    negative_test_at: datetime | None = None,
    travel_risk: bool | None = None,
) -> str:
    """Sign a PGC1 code. `name` must already be masked; `subject` is `identity.subject_hash(...)`.

    The claims go through the same model the gate checks them with, so HQ cannot issue a code gates refuse
    (pydantic's ValidationError says which field is wrong)."""
    details = _Details(
        name=name,
        colour=colour.value,
        negative_test_at=int(negative_test_at.timestamp()) if negative_test_at else None,
        travel_risk=travel_risk,
    )
    claims = _Claims(
        iss=issuer, sub=subject, exp=int(expires_at.timestamp()), iat=int(issued_at.timestamp()), details=details
    )
    raw = _as_cbor_map(claims, _CLAIM_NAMES) | {PRIVATE_CLAIM: _as_cbor_map(details, _DETAIL_NAMES)}
    signed = COSE.new().encode_and_sign(cbor2.dumps(raw), key.cose_key, protected={1: key.alg, 4: key.kid})
    return PREFIX + base45.b45encode(zlib.compress(signed, 9)).decode("ascii")
