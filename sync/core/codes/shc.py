"""SMART Health Cards (`shc:/`), verified offline against issuer keys (JWKS) and revocation lists in the trust list.

    "shc:/" + digits                one QR: each JWS character c written as two digits, ord(c) - 45
    "shc:/N/M/" + digits            chunk N of M (the older chunked form, still in the field)
    JWS = compact, ES256, header {"alg": "ES256", "zip": "DEF", "kid": <JWK thumbprint>}
    payload = raw DEFLATE of {"iss", "nbf", "exp"?, "vc": {"type", "credentialSubject": {"fhirBundle"}, "rid"?}}

The JWS is joserfc's; this module frames it: numeric decoding, chunk reassembly, bounded inflate, the payload's
shape (pydantic) and the FHIR resources the policy counts (COVID-19 immunizations and lab tests).

Chunks need state across scans, which stays here and nowhere else: the format object keeps a few incomplete
sets (at most `PENDING_SETS`, each forgotten `PENDING_SECONDS` after its first chunk). A chunk that leaves its
set incomplete fails with Reason.INCOMPLETE (the gate shows it and logs nothing); the chunk that completes it
returns the verified card.

The decoding steps all fail as Reason.MALFORMED, and their text names the step ("shc:/ numeric decoding failed
(...)", "JWS decoding failed (...)", "raw DEFLATE decompression failed (...)", "payload decoding failed (...)"),
so a damaged card says where.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError
from joserfc.registry import HeaderParameter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from sync.core.codes.base import (
    Checks,
    CodeError,
    Credential,
    Evidence,
    EvidenceKind,
    Holder,
    Reason,
    TestResult,
    TestType,
)
from sync.core.codes.inflate import RAW_DEFLATE, inflate
from sync.core.codes.shc_trust import PARSERS, ShcIssuers, ShcKey
from sync.core.codes.trust import TrustList
from sync.core.identity import mask_name

PREFIX = "shc:/"
MAX_CHUNKS = 10
MAX_TEXT_CHARS = 3000
"""One QR holds at most 1195 JWS characters (2390 digits); anything far larger is refused before decoding."""
MAX_JWS_CHARS = MAX_CHUNKS * 1195
MAX_PAYLOAD_BYTES = 32 * 1024
"""Inflating stops here: a compressed bomb is refused after at most this many bytes of output."""
PENDING_SETS = 4
PENDING_SECONDS = 120.0
CLOCK_SKEW = timedelta(minutes=5)
HEALTH_CARD = "https://smarthealth.cards#health-card"
STEP_NUMERIC = "shc:/ numeric decoding"
STEP_JWS = "JWS decoding"
STEP_PAYLOAD = "payload decoding"

_SINGLE = re.compile(r"shc:/([0-9]+)")
_CHUNK = re.compile(r"shc:/([0-9]{1,2})/([0-9]{1,2})/([0-9]+)")

COVID_VACCINES = frozenset(
    {"207", "208", "210", "211", "212", "213", "217", "218", "219", "221", "225", "226", "227", "228", "229", "230"}
    | {"300", "301", "302"}
    | {str(code) for code in range(500, 522)}
)
"""CVX codes of COVID-19 vaccines (the code system SMART Health Cards use)."""
SINGLE_DOSE_VACCINES = frozenset({"212"})
"""CVX codes whose series is one dose (Janssen)."""
NAA_TESTS = frozenset(
    {
        "94306-8", "94309-2", "94314-2", "94315-9", "94316-7", "94500-6", "94531-1", "94533-7", "94534-5",
        "94559-2", "94565-9", "94640-0", "94756-4", "94757-2", "94759-8", "94760-6", "94845-5", "95406-5",
        "95409-9", "95425-5", "95608-6", "95609-4",
    }
)  # fmt: skip
"""LOINC codes of SARS-CoV-2 nucleic-acid (NAA/PCR) tests."""
RAPID_TESTS = frozenset({"94558-4", "95209-3", "96119-3", "97097-0"})
"""LOINC codes of SARS-CoV-2 antigen tests."""
TEST_RESULTS = {
    "260385009": TestResult.NEGATIVE,
    "260415000": TestResult.NEGATIVE,
    "10828004": TestResult.POSITIVE,
    "260373001": TestResult.POSITIVE,
}
"""SNOMED CT result codes: negative / not detected, positive / detected."""

_REGISTRY = jws.JWSRegistry(
    header_registry={"zip": HeaderParameter("Compression of the payload", "str")}, algorithms=["ES256"]
)

# -- payload shape -------------------------------------------------------------------------------------------

_Text = Annotated[str, StringConstraints(max_length=512)]
_Epoch = Annotated[float, Field(ge=0, lt=2**37)]
"""Seconds since 1970, below the year 6325 (Python's datetime stops at 9999)."""


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class _Coding(_Model):
    system: _Text | None = None
    code: _Text | None = None


class _Concept(_Model):
    coding: list[_Coding] = Field(default_factory=list, max_length=20)

    def codes(self, system_hint: str) -> list[str]:
        return [c.code for c in self.coding if c.code and (c.system is None or system_hint in c.system)]


class _Name(_Model):
    family: _Text | None = None
    given: list[_Text] = Field(default_factory=list, max_length=10)


class _Patient(_Model):
    name: list[_Name] = Field(default_factory=list, max_length=10)


class _Immunization(_Model):
    status: _Text
    vaccineCode: _Concept
    occurrenceDateTime: _Text


class _Observation(_Model):
    status: _Text
    code: _Concept
    effectiveDateTime: _Text
    valueCodeableConcept: _Concept | None = None


class _Entry(_Model):
    resource: dict[str, Any]


class _Bundle(_Model):
    resourceType: Annotated[str, StringConstraints(pattern="^Bundle$")]
    entry: list[_Entry] = Field(min_length=1, max_length=200)


class _Subject(_Model):
    fhirVersion: _Text | None = None
    fhirBundle: _Bundle


class _VC(_Model):
    type: list[_Text] = Field(max_length=20)
    credentialSubject: _Subject
    rid: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,24}$")] | None = None


class _Payload(_Model):
    iss: Annotated[str, StringConstraints(pattern=r"^https://\S+[^/]$", max_length=512)]
    nbf: _Epoch
    exp: _Epoch | None = None
    vc: _VC


_RESOURCES: dict[str, type[_Model]] = {"Patient": _Patient, "Immunization": _Immunization, "Observation": _Observation}


# -- chunks across scans -------------------------------------------------------------------------------------


@dataclass
class _Pending:
    started: float
    parts: dict[int, str] = field(default_factory=dict)


class ChunkSets:
    """Incomplete chunk sets, keyed by their chunk count; bounded in number and in age, safe across threads.

    Chunks carry no card id, so a set is recognised by its size: a chunk that disagrees with one already held
    at the same position starts a new set (a different card), and a set mixed from two cards fails the
    signature check like any altered code."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._sets: dict[int, _Pending] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._sets)

    def add(self, index: int, total: int, digits: str) -> str | None:
        """Hold one chunk; return the whole digit string once every chunk of its set is held."""
        with self._lock:
            now = self._clock()
            for key in [k for k, pending in self._sets.items() if now - pending.started > PENDING_SECONDS]:
                del self._sets[key]
            pending = self._sets.get(total)
            if pending is None or pending.parts.get(index, digits) != digits:
                if pending is None and len(self._sets) >= PENDING_SETS:
                    del self._sets[min(self._sets, key=lambda k: self._sets[k].started)]
                pending = self._sets[total] = _Pending(started=now)
            pending.parts[index] = digits
            if len(pending.parts) < total:
                return None
            del self._sets[total]
            return "".join(pending.parts[i] for i in range(1, total + 1))

    def held(self, total: int) -> int:
        with self._lock:
            pending = self._sets.get(total)
            return len(pending.parts) if pending else 0


def _numeric_to_jws(digits: str) -> str:
    if len(digits) % 2:
        raise CodeError.malformed(STEP_NUMERIC, "odd number of digits")
    chars = []
    for i in range(0, len(digits), 2):
        value = int(digits[i : i + 2])
        if value > ord("z") - 45:
            raise CodeError.malformed(STEP_NUMERIC, "digit pair out of range")
        chars.append(chr(value + 45))
    return "".join(chars)


def jws_to_numeric(token: str) -> str:
    """The digits of a JWS in `shc:/` numeric form (issuers and tests render cards with this)."""
    return "".join(f"{ord(c) - 45:02d}" for c in token)


class SHC:
    """The SMART Health Card format (see module docstring). One instance holds the chunk state for its gate."""

    name = "SHC"
    prefixes = (PREFIX,)
    trust_parsers = PARSERS

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.chunks = ChunkSets(clock)

    def verify(self, text: str, trust: TrustList, now: datetime) -> Credential:
        if not text.startswith(PREFIX):
            raise CodeError(Reason.NOT_OURS)
        if len(text) > MAX_TEXT_CHARS:
            raise CodeError(Reason.TOO_LARGE, f"{len(text)} characters")
        if chunk := _CHUNK.fullmatch(text):
            index, total = int(chunk.group(1)), int(chunk.group(2))
            if not 1 <= index <= total <= MAX_CHUNKS or total < 2:
                raise CodeError.malformed(STEP_NUMERIC, f"chunk {index} of {total}")
            _numeric_to_jws(chunk.group(3))  # a damaged chunk is refused now, not when its set completes
            digits = self.chunks.add(index, total, chunk.group(3))
            if digits is None:
                raise CodeError(Reason.INCOMPLETE, f"{self.chunks.held(total)} of {total} parts read")
        elif single := _SINGLE.fullmatch(text):
            digits = single.group(1)
        else:
            raise CodeError.malformed(STEP_NUMERIC, "not shc:/ followed by digits")
        token = _numeric_to_jws(digits)
        if len(token) > MAX_JWS_CHARS:
            raise CodeError(Reason.TOO_LARGE, f"{len(token)} JWS characters")
        return self._verify_jws(token, trust, now)

    def _verify_jws(self, token: str, trust: TrustList, now: datetime) -> Credential:
        try:
            header = jws.extract_compact(token.encode("ascii")).headers()
        except (JoseError, ValueError, TypeError) as exc:
            raise CodeError.malformed(STEP_JWS, "not a compact JWS") from exc
        if header.get("alg") != "ES256":
            raise CodeError.malformed(STEP_JWS, "the signature algorithm is not ES256")
        if header.get("zip") != "DEF":
            raise CodeError.malformed(STEP_JWS, "the header does not say the payload is DEFLATE-compressed")
        kid = header.get("kid")
        if kid is None:
            raise CodeError(Reason.NO_KEY_ID, "no kid in the JWS header")
        if not isinstance(kid, str) or not 1 <= len(kid) <= 128:
            raise CodeError.malformed(STEP_JWS, "the key id is not a short string")
        keys = trust.section(ShcIssuers).keys(kid)
        if not keys:
            raise CodeError(Reason.UNKNOWN_ISSUER, f"no SMART Health Card issuer key {kid}")
        key, compressed = self._verified(token, keys)
        signed = Checks(signature_valid=True)
        try:
            raw = json.loads(inflate(compressed, MAX_PAYLOAD_BYTES, RAW_DEFLATE))
        except CodeError as error:
            raise CodeError(error.reason, error.detail, signed) from error
        except (ValueError, RecursionError) as exc:
            raise CodeError.malformed(STEP_PAYLOAD, "the inflated payload is not JSON", signed) from exc
        try:
            payload = _Payload.model_validate(raw)
            resources = [
                (kind, _RESOURCES[kind].model_validate(entry.resource))
                for entry in payload.vc.credentialSubject.fhirBundle.entry
                if (kind := entry.resource.get("resourceType")) in _RESOURCES
            ]
            evidence = _evidence(resources)
        except (ValidationError, ValueError) as exc:
            raise CodeError(Reason.SCHEMA_INVALID, _problem(exc), Checks(True, schema_valid=False)) from exc
        if HEALTH_CARD not in payload.vc.type:
            raise CodeError(
                Reason.SCHEMA_INVALID, "vc.type lacks the health-card type", Checks(True, schema_valid=False)
            )
        if key.issuer is not None and payload.iss != key.issuer:
            raise CodeError(
                Reason.UNKNOWN_ISSUER, f"key {kid} belongs to another issuer", Checks(True, schema_valid=True)
            )
        issued_at = datetime.fromtimestamp(payload.nbf, UTC)
        expires_at = datetime.fromtimestamp(payload.exp, UTC) if payload.exp is not None else None
        # A JWT's exp is exclusive (RFC 7519 4.1.4: "on or after which the JWT MUST NOT be accepted"), unlike
        # the CWT-based EU DCC and PGC1 codes, which are valid through the second of theirs (`past_expiry`).
        expired = (expires_at is not None and now >= expires_at) or now + CLOCK_SKEW < issued_at
        checks = Checks(signature_valid=True, expired=expired, schema_valid=True)
        patients = [model for kind, model in resources if isinstance(model, _Patient)]
        name = _patient_name(patients[0]) if patients else ""
        holder = Holder(subject=None, name=mask_name(name))
        if payload.vc.rid is not None and trust.section(ShcIssuers).revoked(kid, payload.vc.rid, issued_at):
            raise CodeError(Reason.REVOKED, f"rid {payload.vc.rid}", checks, holder=holder)
        if expires_at is not None and now >= expires_at:
            raise CodeError(Reason.EXPIRED, f"valid until {expires_at:%Y-%m-%d %H:%M} UTC", checks, holder=holder)
        if now + CLOCK_SKEW < issued_at:
            raise CodeError(Reason.NOT_YET_VALID, f"issued {issued_at:%Y-%m-%d %H:%M} UTC", checks, holder=holder)
        extra = {"entries": "; ".join(e.describe() for e in evidence) or "none the gate counts"}
        return Credential(
            format=self.name,
            issuer=payload.iss,
            kid=kid,
            subject=None,
            name=mask_name(name),
            colour=None,
            issued_at=issued_at,
            expires_at=expires_at,
            negative_test_at=max(
                (
                    e.sampled_at
                    for e in evidence
                    if e.test_type is TestType.NAA and e.test_result is TestResult.NEGATIVE and e.sampled_at
                ),
                default=None,
            ),
            extra=extra,
            evidence=evidence,
            checks=checks,
        )

    @staticmethod
    def _verified(token: str, keys: list[ShcKey]) -> tuple[ShcKey, bytes]:
        for key in keys:
            try:
                signed = jws.deserialize_compact(token, key.key, algorithms=["ES256"], registry=_REGISTRY)
            except BadSignatureError:
                continue
            except (JoseError, ValueError, TypeError) as exc:
                raise CodeError.malformed(STEP_JWS, "the JWS cannot be verified") from exc
            return key, signed.payload
        raise CodeError(Reason.BAD_SIGNATURE)


def _problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(".".join(map(str, e["loc"])) or "payload" for e in exc.errors()[:3])
    return str(exc)


def _patient_name(patient: _Patient) -> str:
    if not patient.name:
        return ""
    first = patient.name[0]
    return " ".join([*first.given, first.family or ""]).strip()


def _fhir_date(value: str) -> date:
    """A FHIR date or dateTime's date (year-only and year-month values are not precise enough to count)."""
    return date.fromisoformat(value[:10])


def _fhir_instant(value: str) -> datetime:
    """A FHIR dateTime as an aware UTC time; a bare date counts from its start (the older reading)."""
    if len(value) == 10:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"time {value[:30]!r} has no time zone")
    return moment.astimezone(UTC)


def _evidence(resources: list[tuple[str, _Model]]) -> tuple[Evidence, ...]:
    """COVID-19 lab tests one by one, and the immunizations as one vaccination record (the card does not say
    how many doses the series needs: two doses, or one of a single-dose vaccine, complete it)."""
    tests: list[Evidence] = []
    doses: list[tuple[date, str]] = []
    for _, model in resources:
        if isinstance(model, _Immunization) and model.status == "completed":
            vaccines = [code for code in model.vaccineCode.codes("cvx") if code in COVID_VACCINES]
            if vaccines:
                doses.append((_fhir_date(model.occurrenceDateTime), vaccines[0]))
        elif isinstance(model, _Observation) and model.status in ("final", "amended", "corrected"):
            loinc = set(model.code.codes("loinc"))
            test_type = TestType.NAA if loinc & NAA_TESTS else TestType.RAPID if loinc & RAPID_TESTS else None
            if test_type is None:
                continue
            results = [
                TEST_RESULTS[c] for c in (model.valueCodeableConcept or _Concept()).codes("snomed") if c in TEST_RESULTS
            ]
            tests.append(
                Evidence(
                    EvidenceKind.TEST,
                    test_type=test_type,
                    test_result=results[0] if results else None,
                    sampled_at=_fhir_instant(model.effectiveDateTime),
                )
            )
    if doses:
        doses.sort()
        complete = len(doses) >= 2 or any(code in SINGLE_DOSE_VACCINES for _, code in doses)
        tests.append(Evidence(EvidenceKind.VACCINATION, dose=len(doses), complete=complete, vaccinated_on=doses[-1][0]))
    return tuple(tests)
