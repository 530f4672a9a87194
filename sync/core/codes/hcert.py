"""EU Digital COVID Certificates (HC1), verified offline per the eHealth Network's hcert specification.

    "HC1:" + base45( zlib( COSE_Sign1( protected {1: alg, 4: kid}, unprotected {4: kid}?, payload, sig ) ) )
    payload = CWT claims {1: iss (country), 6: iat, 4: exp, -260: {1: DCC (JSON schema v1.3)}}

Steps, each failing with its own Reason: prefix; size before anything is decoded; base45; bounded zlib; COSE
shape; key id (the protected header's, else the unprotected one's; refused when absent); document-signer certificate (DSC) by key
id from the trust list, every DSC with that id tried; signature (ES256 or PS256, python-cwt); then, once the
signature holds, the claims: exactly one entry, the v1.3 JSON schema (jsonschema, schema file shipped in
`sync/core/codes/schemas/`), the certificate's own iat/exp (valid through the second of exp), the DSC's validity period and its extended key usages
(a DSC may be restricted to test, vaccination or recovery entries). Every check's outcome is reported on its
own (`Checks`), for HQ staff diagnosing a code with `pocket-kiosk check --trust FILE`. The decoding steps all
fail as Reason.MALFORMED, and their text names the step ("base45 decoding failed (...)", "zlib decompression
failed (...)", "COSE decoding failed (...)", "CWT claims decoding failed (...)"), so a damaged code says where.
"""

from __future__ import annotations

import binascii
import json
import math
from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import base45
import cbor2
from cbor2 import CBORTag
from cwt import COSE
from cwt.exceptions import VerifyError

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
    past_expiry,
)
from sync.core.codes.inflate import inflate
from sync.core.codes.hcert_trust import PARSERS, DocumentSigner, DocumentSigners
from sync.core.codes.trust import TrustList
from sync.core.identity import mask_name

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

PREFIX = "HC1:"
MAX_TEXT_CHARS = 4096
"""Real certificates are 300-700 characters (a PS256 one up to ~1000); far larger is refused before base45."""
MAX_COSE_BYTES = 4096
"""Inflating stops here: a compressed bomb is refused after at most this many bytes of output."""
CLOCK_SKEW = timedelta(minutes=5)
MAX_EPOCH = 2**37
"""Times past this (the year 6325) are refused as malformed: Python's datetime stops at the year 9999."""
ALGORITHMS = {-7: "ES256", -37: "PS256"}
HCERT_CLAIM = -260
EU_DCC_V1 = 1
COSE_SIGN1_TAG = 18
CWT_TAG = 61
COVID_19 = "840539006"
"""SNOMED CT code of COVID-19, the disease targeted (`tg`) by every DCC entry the gate counts."""
TEST_TYPES = {"LP6464-4": TestType.NAA, "LP217198-3": TestType.RAPID}
TEST_RESULTS = {"260415000": TestResult.NEGATIVE, "260373001": TestResult.POSITIVE}
GROUPS = {"v": EvidenceKind.VACCINATION, "t": EvidenceKind.TEST, "r": EvidenceKind.RECOVERY}
SCHEMA_FILE = "dcc-1.3.schema.json"
STEP_BASE45 = "base45 decoding"
STEP_COSE = "COSE decoding"
STEP_CLAIMS = "CWT claims decoding"


@cache
def schema_validator() -> Draft202012Validator:
    """The DCC v1.3 schema, with format checks (dates, RFC 3339 date-times) switched on. jsonschema is imported
    here, at the first certificate, not with the gate: it costs a tenth of a second of every kiosk start."""
    from jsonschema import Draft202012Validator
    text = resources.files("sync.core.codes").joinpath("schemas", SCHEMA_FILE).read_text(encoding="utf-8")
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _loads(data: bytes, step: str, what: str, checks: Checks | None = None) -> Any:
    try:
        return cbor2.loads(data)
    except Exception as exc:  # noqa: BLE001 - hostile input to a third-party decoder raises many types
        raise CodeError.malformed(step, f"{what} is not valid CBOR", checks) from exc


def _sign1(message: Any) -> CBORTag:
    """The COSE_Sign1 message, tagged 18 as python-cwt expects. Issuers in the wild also send it untagged or
    inside a CWT tag (61); both are read the same."""
    if isinstance(message, CBORTag) and message.tag == CWT_TAG:
        message = message.value
    if isinstance(message, list):
        message = CBORTag(COSE_SIGN1_TAG, message)
    if not (isinstance(message, CBORTag) and message.tag == COSE_SIGN1_TAG):
        raise CodeError.malformed(STEP_COSE, "not a COSE_Sign1 message")
    parts = message.value
    if not (
        isinstance(parts, list)
        and len(parts) == 4
        and isinstance(parts[0], bytes)
        and isinstance(parts[1], dict)
        and isinstance(parts[2], bytes)
        and isinstance(parts[3], bytes)
    ):
        raise CodeError.malformed(STEP_COSE, "COSE_Sign1 has the wrong shape")
    return message


def _json_like(value: Any, depth: int = 0) -> Any:
    """The DCC as plain JSON values, so the JSON schema judges exactly what JSON could express: CBOR byte
    strings, tags, non-string keys or non-finite numbers are schema violations, never crashes."""
    if depth > 16:
        raise ValueError("nested too deeply")
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, list):
        return [_json_like(item, depth + 1) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: _json_like(item, depth + 1) for key, item in value.items()}
    raise ValueError(f"{type(value).__name__} is not a JSON value")


def _numeric_date(claims: dict[Any, Any], key: int, name: str, checks: Checks) -> datetime:
    value = claims.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < MAX_EPOCH:
        raise CodeError.malformed(STEP_CLAIMS, f"claim {name} is missing or not a time", checks)
    return datetime.fromtimestamp(value, UTC)


class HC1:
    """The EU Digital COVID Certificate format (see module docstring)."""

    name = "HC1"
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
            raise CodeError.malformed(STEP_BASE45, f"the text after {PREFIX} is not base45") from exc
        message = _sign1(_loads(inflate(compressed, MAX_COSE_BYTES), STEP_COSE, "the message"))
        protected_raw, unprotected, payload, _ = message.value
        protected = _loads(protected_raw, STEP_COSE, "the protected header") if protected_raw else {}
        if not isinstance(protected, dict):
            raise CodeError.malformed(STEP_COSE, "the protected header is not a map")
        alg = protected.get(1)
        if not isinstance(alg, int) or alg not in ALGORITHMS:  # a hostile header's value may be unhashable
            raise CodeError.malformed(STEP_COSE, "the protected header's algorithm is not ES256 or PS256")
        kid = self._kid(protected, unprotected)
        signers = trust.section(DocumentSigners).signers(kid)
        if not signers:
            raise CodeError(Reason.UNKNOWN_ISSUER, f"no document signer with key id {kid.hex()}")
        signer = self._verified_signer(message, signers, alg)
        signed = Checks(signature_valid=True)
        claims = _loads(payload, STEP_CLAIMS, "the payload", signed)
        if not isinstance(claims, dict):
            raise CodeError.malformed(STEP_CLAIMS, "the claims are not a map", signed)
        issued_at = _numeric_date(claims, 6, "iat", signed)
        expires_at = _numeric_date(claims, 4, "exp", signed)
        iss = claims.get(1)
        if iss is not None and not isinstance(iss, str):
            raise CodeError.malformed(STEP_CLAIMS, "claim iss is not text", signed)
        hcert = claims.get(HCERT_CLAIM)
        dcc = hcert.get(EU_DCC_V1) if isinstance(hcert, dict) else None
        if not isinstance(dcc, dict):
            raise CodeError(Reason.SCHEMA_INVALID, "no EU DCC under the hcert claim", Checks(True, schema_valid=False))
        return self._judge(dcc, signer, kid, iss, issued_at, expires_at, now)

    @staticmethod
    def _kid(protected: dict[Any, Any], unprotected: dict[Any, Any]) -> bytes:
        """The key id from the protected header, or else from the unprotected one. The spec allows both and
        says the protected one MUST be used when both are there (hcert 3.2.3): the unprotected header is not
        signed, so whatever it names is ignored then (python-cwt picks the same one when it verifies)."""
        kid = protected.get(4, unprotected.get(4))
        if kid is None:
            raise CodeError(Reason.NO_KEY_ID, "no kid in the protected or unprotected header")
        if not isinstance(kid, bytes) or not 1 <= len(kid) <= 64:
            raise CodeError.malformed(STEP_COSE, "the key id is not a short byte string")
        return kid

    @staticmethod
    def _verified_signer(message: CBORTag, signers: list[DocumentSigner], alg: int) -> DocumentSigner:
        candidates = [signer for signer in signers if signer.cose_key.alg == alg]
        if not candidates:
            raise CodeError(Reason.BAD_SIGNATURE, f"{ALGORITHMS[alg]} does not match the signer's key")
        for signer in candidates:
            try:
                COSE.new().decode(message, signer.cose_key)
            except VerifyError:
                continue
            except Exception as exc:  # noqa: BLE001 - cwt raises ValueError/DecodeError/KeyError on odd shapes
                raise CodeError.malformed(STEP_COSE, "the signed message cannot be verified") from exc
            return signer
        raise CodeError(Reason.BAD_SIGNATURE)

    def _judge(
        self,
        raw: dict[Any, Any],
        signer: DocumentSigner,
        kid: bytes,
        iss: str | None,
        issued_at: datetime,
        expires_at: datetime,
        now: datetime,
    ) -> Credential:
        """Every check on signed content, all computed so each can be reported, then the first failure raised
        in the order: entries, schema, the certificate's validity, the signer's validity, key usage."""
        groups = [key for key in GROUPS if key in raw]
        entries = sum(len(raw[key]) if isinstance(raw[key], list) else 1 for key in groups)
        kind = GROUPS[groups[0]] if len(groups) == 1 else None
        try:
            dcc = _json_like(raw)
            errors = sorted(schema_validator().iter_errors(dcc), key=lambda e: list(e.absolute_path))
        except ValueError as exc:
            dcc, errors, bad_value = None, [], str(exc)
        else:
            bad_value = ""
        schema_valid = not errors and not bad_value
        if past_expiry(now, expires_at):
            own_validity: tuple[Reason, str] | None = (Reason.EXPIRED, f"valid until {expires_at:%Y-%m-%d %H:%M} UTC")
        elif now + CLOCK_SKEW < issued_at:
            own_validity = (Reason.NOT_YET_VALID, f"issued {issued_at:%Y-%m-%d %H:%M} UTC")
        else:
            own_validity = None
        signer_valid = signer.valid_at(now) and issued_at + CLOCK_SKEW >= signer.not_before
        key_usage_ok = None if kind is None else signer.usages is None or kind in signer.usages
        checks = Checks(
            signature_valid=True,
            expired=own_validity is not None or not signer_valid,
            key_usage_ok=key_usage_ok,
            schema_valid=schema_valid and entries == 1,
        )
        if entries > 1:
            raise CodeError(Reason.MULTIPLE_ENTRIES, f"{entries} entries in {', '.join(groups)}", checks)
        if not schema_valid:
            where = bad_value or "; ".join(
                f"{'/'.join(map(str, e.absolute_path)) or 'certificate'}: {e.validator}" for e in errors[:3]
            )
            raise CodeError(Reason.SCHEMA_INVALID, where, checks)
        if own_validity is not None:
            raise CodeError(*own_validity, checks, holder=_holder(dcc))
        if not signer_valid:
            raise CodeError(
                Reason.SIGNER_EXPIRED,
                f"signer valid {signer.not_before:%Y-%m-%d} to {signer.not_after:%Y-%m-%d}",
                checks,
                holder=_holder(dcc),
            )
        assert dcc is not None and kind is not None  # schema_valid and one entry
        if not key_usage_ok:
            allowed = ", ".join(sorted(usage.value for usage in signer.usages or ()))
            raise CodeError(
                Reason.WRONG_KEY_USAGE, f"{kind.value} entry; signer may sign {allowed}", checks, holder=_holder(dcc)
            )
        entry = dcc[groups[0]][0]
        try:
            evidence = _evidence(kind, entry)
        except ValueError as exc:
            unreadable = Checks(signature_valid=True, expired=False, key_usage_ok=True, schema_valid=False)
            raise CodeError(Reason.SCHEMA_INVALID, str(exc), unreadable) from exc
        name = _holder(dcc).name
        extra = {"certificate": kind.value, "country": entry["co"], "signer": signer.subject}
        if evidence:
            extra["entries"] = evidence[0].describe()
        return Credential(
            format=self.name,
            issuer=f"{entry['is']} ({iss})" if iss else entry["is"],
            kid=kid.hex(),
            subject=None,
            name=name,
            colour=None,
            issued_at=issued_at,
            expires_at=expires_at,
            negative_test_at=next(
                (
                    e.sampled_at
                    for e in evidence
                    if e.test_type is TestType.NAA and e.test_result is TestResult.NEGATIVE
                ),
                None,
            ),
            extra=extra,
            evidence=evidence,
            checks=checks,
        )


def _holder(dcc: dict[str, Any]) -> Holder:
    """Whose a schema-valid certificate is: its masked name (certificates carry no ID number)."""
    names = dcc["nam"]
    name = " ".join(
        part
        for part in (
            names.get("gn") or names.get("gnt", "").replace("<", " "),
            names.get("fn") or names.get("fnt", "").replace("<", " "),
        )
        if part
    )
    return Holder(subject=None, name=mask_name(name))


def _evidence(kind: EvidenceKind, entry: dict[str, Any]) -> tuple[Evidence, ...]:
    """The entry in the policy's terms; an entry for another disease than COVID-19 attests nothing here.
    Raises ValueError for dates the schema let through but Python cannot read."""
    if entry["tg"] != COVID_19:
        return ()
    if kind is EvidenceKind.TEST:
        sampled_at = datetime.fromisoformat(entry["sc"])
        if sampled_at.tzinfo is None:
            raise ValueError("t/0/sc: sample time without a time zone")
        return (
            Evidence(
                kind,
                test_type=TEST_TYPES.get(entry["tt"]),
                test_result=TEST_RESULTS.get(entry["tr"]),
                sampled_at=sampled_at.astimezone(UTC),
            ),
        )
    if kind is EvidenceKind.VACCINATION:
        return (
            Evidence(
                kind,
                dose=entry["dn"],
                doses=entry["sd"],
                complete=entry["dn"] >= entry["sd"],
                vaccinated_on=date.fromisoformat(entry["dt"]),
            ),
        )
    return (Evidence(kind, valid_from=date.fromisoformat(entry["df"]), valid_until=date.fromisoformat(entry["du"])),)
