"""What every code format produces (a Credential) and how it fails (a CodeError with a Reason).

The scanner, the policy, the store and the UI only ever see these two types, so a new format (EU DCC,
SMART Health Cards) plugs in without touching them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from kiosk.codes.trust import TrustList


class Colour(StrEnum):
    """Health-code colour as issued (a red/yellow list at the gate may override it)."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class Reason(StrEnum):
    """Why a scanned text is not a valid credential; the value is the plain words shown to the keeper."""

    NOT_OURS = "not a health code this gate reads"
    TOO_LARGE = "code is too large to be genuine"
    MALFORMED = "code is damaged or malformed"
    UNKNOWN_ISSUER = "code signed by an unknown issuer"
    BAD_SIGNATURE = "code signature is invalid (forged or altered)"
    EXPIRED = "code has expired"
    NOT_YET_VALID = "code is not valid yet"
    NO_KEY_ID = "code names no signing key, so it cannot be checked"
    SIGNER_EXPIRED = "the certificate that signed this code is expired or not yet valid"
    WRONG_KEY_USAGE = "the signer is not allowed to sign this kind of certificate"
    SCHEMA_INVALID = "certificate content does not follow its standard's schema"
    MULTIPLE_ENTRIES = "certificate holds more than one entry (the standard allows one)"
    REVOKED = "certificate has been revoked by its issuer"
    INCOMPLETE = "part of a multi-part code was read; show the next part"


@dataclass(frozen=True)
class Checks:
    """Each verification step on its own, for HQ staff diagnosing a code: True or False when the step ran,
    None when it was not reached (an earlier step failed) or does not exist for the format."""

    signature_valid: bool | None = None
    expired: bool | None = None
    """True when the code or the certificate that signed it is outside its validity period."""
    key_usage_ok: bool | None = None
    """Whether the signer may sign this kind of entry (EU DCC document-signer key usages)."""
    schema_valid: bool | None = None
    """Whether the content follows the format's schema."""

    @classmethod
    def implied_by(cls, reason: Reason) -> Checks:
        """What a failure reason says about the steps, for formats that do not report them one by one."""
        if reason is Reason.BAD_SIGNATURE:
            return cls(signature_valid=False)
        if reason in (Reason.EXPIRED, Reason.NOT_YET_VALID, Reason.SIGNER_EXPIRED):
            return cls(signature_valid=True, expired=True)
        if reason in (Reason.SCHEMA_INVALID, Reason.MULTIPLE_ENTRIES):
            return cls(signature_valid=True, schema_valid=False)
        if reason is Reason.WRONG_KEY_USAGE:
            return cls(signature_valid=True, key_usage_ok=False)
        if reason is Reason.REVOKED:
            return cls(signature_valid=True)
        return cls()


def past_expiry(now: datetime, expires_at: datetime) -> bool:
    """Whether a CWT credential (EU DCC, our PGC1) whose `exp` claim is `expires_at` has expired at `now`.

    `exp` is a NumericDate in whole seconds and the hcert specification (3.2.5) rejects a certificate only
    *after* it, so the credential is valid through that second: exp 09:00:00 still passes at 09:00:00.999 and
    fails from 09:00:01. (A JWT's `exp` is exclusive instead, RFC 7519 4.1.4: see `kiosk.codes.shc`.)"""
    return now.replace(microsecond=0) > expires_at


class CodeError(Exception):
    """A scanned text failed to become a credential. `reason` is machine-readable, `str()` readable;
    `checks` says which verification steps ran and how they came out."""

    def __init__(self, reason: Reason, detail: str = "", checks: Checks | None = None) -> None:
        self.reason = reason
        self.detail = detail
        self.checks = checks if checks is not None else Checks.implied_by(reason)
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)

    @classmethod
    def malformed(cls, step: str, problem: str, checks: Checks | None = None) -> CodeError:
        """A damaged code whose text names the decoding step that found the damage, e.g. 'base45 decoding failed
        (...)': every decoding step fails as Reason.MALFORMED, so only this text tells the keeper (and HQ staff
        diagnosing a code) which one it was."""
        return cls(Reason.MALFORMED, f"{step} failed ({problem})", checks)


class EvidenceKind(StrEnum):
    """What a standard health certificate entry attests."""

    TEST = "test"
    VACCINATION = "vaccination"
    RECOVERY = "recovery"


class TestType(StrEnum):
    """Kinds of SARS-CoV-2 test the policy tells apart."""

    __test__ = False  # not a pytest test class

    NAA = "naa"
    """Nucleic-acid amplification (PCR and the like)."""
    RAPID = "rapid"
    """Rapid antigen test."""


class TestResult(StrEnum):
    __test__ = False

    NEGATIVE = "negative"
    POSITIVE = "positive"


@dataclass(frozen=True)
class Evidence:
    """One COVID-19 test, vaccination or recovery entry of a verified certificate, in the policy's terms.
    Only the fields of its kind are set."""

    kind: EvidenceKind
    test_type: TestType | None = None
    """None for a test of a type the gate does not recognise (it never counts)."""
    test_result: TestResult | None = None
    sampled_at: datetime | None = None
    """When the test sample was taken (the policy's age limits count from here)."""
    dose: int | None = None
    doses: int | None = None
    """Doses in the series (None when the format does not say)."""
    complete: bool | None = None
    """Whether the vaccination series is complete."""
    vaccinated_on: date | None = None
    """Date of the last dose."""
    valid_from: date | None = None
    valid_until: date | None = None
    """Recovery certificates: the issuer's own validity dates."""

    def describe(self) -> str:
        """Plain words for screens and logs, e.g. 'NAA test negative, sampled 2026-11-23 08:00 UTC'."""
        if self.kind is EvidenceKind.TEST:
            kind = {TestType.NAA: "NAA test", TestType.RAPID: "rapid antigen test"}.get(
                self.test_type, "test of unknown type"  # type: ignore[arg-type]
            )
            result = self.test_result.value if self.test_result else "result unknown"
            sampled = f", sampled {self.sampled_at:%Y-%m-%d %H:%M} UTC" if self.sampled_at else ""
            return f"{kind} {result}{sampled}"
        if self.kind is EvidenceKind.VACCINATION:
            of = f" of {self.doses}" if self.doses else ""
            on = f" on {self.vaccinated_on.isoformat()}" if self.vaccinated_on else ""
            return f"vaccination dose {self.dose}{of}{on}"
        span = f" {self.valid_from} to {self.valid_until}" if self.valid_from and self.valid_until else ""
        return f"recovery, valid{span}"


@dataclass(frozen=True)
class Credential:
    """A verified credential. Every field was type-checked and covered by a valid signature."""

    format: str
    """Short name of the code format, e.g. 'PGC1', 'HC1', 'SHC'."""
    issuer: str
    kid: str
    """Key id of the key that signed it: hex for PGC1 and HC1, the JWK thumbprint for SHC."""
    subject: str | None
    """Keyed hash of the holder's ID number, or None when the format carries no hashable identity."""
    name: str
    """Masked display name."""
    colour: Colour | None
    issued_at: datetime
    expires_at: datetime | None
    """None for a credential that carries no expiry of its own (a SMART Health Card may not)."""
    negative_test_at: datetime | None = None
    travel_risk: bool | None = None
    extra: dict[str, str] = field(default_factory=dict)
    """Format-specific facts worth showing (already plain strings)."""
    evidence: tuple[Evidence, ...] = ()
    """Tests, vaccinations and recoveries a standard health certificate attests; empty for a health code."""
    checks: Checks = Checks(signature_valid=True, expired=False)
    """How each verification step came out (all passed, or did not apply)."""

    @property
    def is_certificate(self) -> bool:
        """A standard health certificate (EU DCC, SMART Health Card) rather than a health code: it has no
        colour, and the policy judges its evidence instead."""
        return self.colour is None


class CodeFormat(Protocol):
    """One credential format. `verify` never raises anything but CodeError."""

    name: str
    prefixes: tuple[str, ...]

    def verify(self, text: str, trust: TrustList, now: datetime) -> Credential: ...
