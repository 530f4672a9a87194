"""What every code format produces (a Credential) and how it fails (a CodeError with a Reason).

The scanner, the policy, the store and the UI only ever see these two types, so a new format (EU DCC,
SMART Health Cards) plugs in without touching them (see `sync.core.codes.registry`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from sync.core.i18n import N_
from sync.core.wording import Because, Wording


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


EXPIRED_UNTIL = Wording(
    "code.expired_until", N_("code has expired"), N_("code has expired: valid until {until}"), times=("until",),
    counted_as="code.expired",
)
NOT_YET_VALID_ISSUED = Wording(
    "code.not_yet_valid_issued", N_("code is not valid yet"), N_("code is not valid yet: issued {issued}"),
    times=("issued",), counted_as="code.not_yet_valid",
)
INCOMPLETE_PARTS = Wording(
    "code.incomplete_parts",
    N_("part of a multi-part code"),
    N_("part of a multi-part code was read; show the next part: {held} of {total} parts read"),
    counted_as="code.incomplete",
)
REASON_WORDINGS = {
    Reason.NOT_OURS: Wording("code.not_ours", N_("not a health code"), N_("not a health code this gate reads"), detail=True),
    Reason.TOO_LARGE: Wording("code.too_large", N_("code too large"), N_("code is too large to be genuine"), detail=True),
    Reason.MALFORMED: Wording("code.malformed", N_("code damaged"), N_("code is damaged or malformed"), detail=True),
    Reason.UNKNOWN_ISSUER: Wording(
        "code.unknown_issuer", N_("unknown issuer"), N_("code signed by an unknown issuer"), detail=True
    ),
    Reason.BAD_SIGNATURE: Wording(
        "code.bad_signature", N_("forged or altered code"), N_("code signature is invalid (forged or altered)"),
        detail=True,
    ),
    Reason.EXPIRED: Wording("code.expired", N_("code has expired"), N_("code has expired"), detail=True),
    Reason.NOT_YET_VALID: Wording(
        "code.not_yet_valid", N_("code is not valid yet"), N_("code is not valid yet"), detail=True
    ),
    Reason.NO_KEY_ID: Wording(
        "code.no_key_id", N_("no signing key named"), N_("code names no signing key, so it cannot be checked"),
        detail=True,
    ),
    Reason.SIGNER_EXPIRED: Wording(
        "code.signer_expired",
        N_("signer's certificate not valid"),
        N_("the certificate that signed this code is expired or not yet valid"),
        detail=True,
    ),
    Reason.WRONG_KEY_USAGE: Wording(
        "code.wrong_key_usage",
        N_("signer not allowed"),
        N_("the signer is not allowed to sign this kind of certificate"),
        detail=True,
    ),
    Reason.SCHEMA_INVALID: Wording(
        "code.schema_invalid",
        N_("certificate content invalid"),
        N_("certificate content does not follow its standard's schema"),
        detail=True,
    ),
    Reason.MULTIPLE_ENTRIES: Wording(
        "code.multiple_entries",
        N_("more than one entry"),
        N_("certificate holds more than one entry (the standard allows one)"),
        detail=True,
    ),
    Reason.REVOKED: Wording(
        "code.revoked", N_("certificate revoked"), N_("certificate has been revoked by its issuer"), detail=True
    ),
    Reason.INCOMPLETE: Wording(
        "code.incomplete", N_("part of a multi-part code"), N_("part of a multi-part code was read; show the next part"),
        detail=True,
    ),
}
"""Each reason's words (the enum's values, marked for translation), after the three that carry particulars."""


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
    fails from 09:00:01. (A JWT's `exp` is exclusive instead, RFC 7519 4.1.4: see `sync.core.codes.shc`.)"""
    return now.replace(microsecond=0) > expires_at


@dataclass(frozen=True)
class Holder:
    """Whose an authentic code is, when it is refused after its signature verified (expired, not yet valid,
    revoked, signed by a key not allowed to sign it): the gate logs the attempt with its person, so tracing
    finds them. A code whose signature did not verify has no holder: nothing in it can be believed."""

    subject: str | None
    """The keyed hash of the ID number (PGC1 codes); None for formats that carry none (certificates)."""
    name: str
    """The masked name."""
    format: str = ""
    """The code's format ('PGC1', ...), set by `read_code`."""


class CodeError(Exception):
    """A scanned text failed to become a credential. `reason` is machine-readable, `str()` readable;
    `checks` says which verification steps ran and how they came out; `holder` whose it is, when its signature
    verified."""

    def __init__(
        self, reason: Reason, detail: str = "", checks: Checks | None = None, holder: Holder | None = None
    ) -> None:
        self.reason = reason
        self.detail = detail
        self.checks = checks if checks is not None else Checks.implied_by(reason)
        self.holder = holder
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)

    @property
    def because(self) -> Because:
        """The failure as a reason with its code: the particulars (a time, parts read) as parameters where the
        detail gives them, else the detail as it is (a decoder's technical words, not translated)."""
        text = str(self)
        for wording in (EXPIRED_UNTIL, NOT_YET_VALID_ISSUED, INCOMPLETE_PARTS):
            if (found := wording.understood(text)) is not None:
                return found
        return REASON_WORDINGS[self.reason](detail=self.detail or None)

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


TEST_KINDS = (N_("NAA test"), N_("rapid antigen test"), N_("test of unknown type"))
RESULT_UNKNOWN = N_("result unknown")
N_("negative")
N_("positive")
TEST_SAMPLED = Wording(
    "evidence.test", N_("test"), N_("{kind} {result}, sampled {sampled}"), times=("sampled",), words=("kind", "result"), alone=False
)
TEST_UNDATED = Wording("evidence.test_undated", N_("test"), N_("{kind} {result}"), words=("kind", "result"), alone=False)
DOSE_OF = Wording("evidence.dose_of", N_("vaccination"), N_("vaccination dose {dose} of {doses} on {on}"), alone=False)
DOSE_ON = Wording("evidence.dose_on", N_("vaccination"), N_("vaccination dose {dose} on {on}"), alone=False)
DOSE_OF_ONLY = Wording("evidence.dose_of_only", N_("vaccination"), N_("vaccination dose {dose} of {doses}"), alone=False)
DOSE = Wording("evidence.dose", N_("vaccination"), N_("vaccination dose {dose}"), alone=False)
RECOVERY_SPAN = Wording("evidence.recovery", N_("recovery"), N_("recovery, valid {start} to {end}"), alone=False)
RECOVERY = Wording("evidence.recovery_undated", N_("recovery"), N_("recovery, valid"), alone=False)


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

    def describe(self) -> Because:
        """Plain words for screens and logs, e.g. 'NAA test negative, sampled 2026-11-23 08:00 UTC' (a reason of
        its own, so a reason about it is worded in the reader's language too)."""
        if self.kind is EvidenceKind.TEST:
            kind = {TestType.NAA: TEST_KINDS[0], TestType.RAPID: TEST_KINDS[1]}.get(
                self.test_type, TEST_KINDS[2]  # type: ignore[arg-type]
            )
            result = self.test_result.value if self.test_result else RESULT_UNKNOWN
            if self.sampled_at:
                return TEST_SAMPLED(kind=kind, result=result, sampled=self.sampled_at)
            return TEST_UNDATED(kind=kind, result=result)
        if self.kind is EvidenceKind.VACCINATION:
            if self.doses and self.vaccinated_on:
                return DOSE_OF(dose=self.dose, doses=self.doses, on=self.vaccinated_on.isoformat())
            if self.vaccinated_on:
                return DOSE_ON(dose=self.dose, on=self.vaccinated_on.isoformat())
            return DOSE_OF_ONLY(dose=self.dose, doses=self.doses) if self.doses else DOSE(dose=self.dose)
        if self.valid_from and self.valid_until:
            return RECOVERY_SPAN(start=str(self.valid_from), end=str(self.valid_until))
        return RECOVERY()


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
