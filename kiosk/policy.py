"""The gate's rules: who passes, who is held, who is refused, and why in plain words.

`judge()` is a pure function of what was presented (a verified credential or a manual entry), what the gate
knows about that person (resident? HQ pass? on the red/yellow list?), the temperature and the direction. It
never touches the database, so every rule is tested on its own. Rules come from `config/policy.toml`;
the defaults below are the field's and match that file.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kiosk.codes.base import Colour, Evidence, EvidenceKind, TestResult, TestType
from kiosk.readings import BodyTemperature, temperature_problem


class Decision(StrEnum):
    """Verdict words, in increasing severity."""

    PASS = "pass"
    HOLD = "hold"
    REFUSE = "refuse"

    @property
    def severity(self) -> int:
        return list(Decision).index(self)


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class _Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColourRules(_Rules):
    """What each health-code colour leads to."""

    green: Decision = Decision.PASS
    """A green code passes (other rules may still refuse)."""
    yellow: Decision = Decision.REFUSE
    """Yellow: at risk; refused by default, some districts hold for a check instead."""
    red: Decision = Decision.REFUSE
    """Red: confirmed or close contact; always refused by default."""
    manual_unlisted: Decision = Decision.PASS
    """A person with no phone code, checked by ID number, who is not on HQ's red/yellow list."""


class NegativeTestRule(_Rules):
    required: bool = False
    """Whether a recent negative nucleic-acid test is needed to pass."""
    max_age_hours: float = Field(72, gt=0)
    """A negative test older than this does not count (field practice: 48 or 72 hours)."""


class TemperatureRule(_Rules):
    refuse_at_or_above: BodyTemperature = 37.3
    """Degrees Celsius; a reading at or above this is refused."""
    required: bool = False
    """Hold anyone whose temperature was not taken."""


class AccessRule(_Rules):
    non_resident_without_pass: Decision = Decision.REFUSE
    """Someone not on the roster and without a valid HQ pass (staff, special vehicles, visitors)."""


class TravelRule(_Rules):
    risk: Decision = Decision.REFUSE
    """A code flagged for a stay in a medium or high risk area within the last 14 days."""


class ExitRule(_Rules):
    check_health: bool = True
    """Apply the colour, test and travel rules to people leaving (a red code stays home)."""
    check_access: bool = False
    """Apply the resident/pass rule to people leaving (off: visitors must be able to leave)."""
    check_temperature: bool = False
    """Apply the temperature rule to people leaving."""


class FreshnessRule(_Rules):
    lists_max_age_hours: float = Field(24, gt=0)
    """The red/yellow list and roster are stale after this long without a sync from HQ."""
    keys_max_age_hours: float = Field(168, gt=0)
    """The trusted issuer keys are stale after this long without a sync from HQ (or a `trust import`)."""
    stale_keys: Decision = Decision.PASS
    """What a code verified against a stale trust list leads to: "pass" admits it with a warning shown,
    "hold" or "refuse" stop it (a revoked signer may still be in an old list)."""


class CertificateRules(_Rules):
    """Which entries of a standard health certificate (EU DCC, SMART Health Card) count, and for how long.
    A certificate carries no colour: it passes the health rules when one of its entries counts."""

    naa_test: bool = True
    """A negative nucleic-acid (NAA/PCR) test counts."""
    naa_test_hours: float = Field(72, gt=0)
    """...when its sample was taken at most this many hours ago."""
    rapid_test: bool = True
    """A negative rapid antigen test counts."""
    rapid_test_hours: float = Field(24, gt=0)
    """...when its sample was taken at most this many hours ago."""
    vaccination: bool = False
    """A completed vaccination series counts."""
    vaccination_min_days: int = Field(14, ge=0)
    """...from this many days after the last dose."""
    vaccination_max_days: int = Field(270, gt=0)
    """...until this many days after the last dose."""
    recovery: bool = False
    """A recovery certificate counts within its own valid-from and valid-until dates."""
    nothing_counts: Decision = Decision.REFUSE
    """A certificate none of whose entries counts (too old, of a kind not accepted, another disease)."""

    @model_validator(mode="after")
    def _vaccination_window(self) -> CertificateRules:
        if self.vaccination_max_days <= self.vaccination_min_days:
            raise ValueError("vaccination_max_days must be more than vaccination_min_days")
        return self


class Policy(_Rules):
    """All rules in force at a gate (`config/policy.toml`)."""

    colours: ColourRules = ColourRules()
    negative_test: NegativeTestRule = NegativeTestRule()
    temperature: TemperatureRule = TemperatureRule()
    access: AccessRule = AccessRule()
    travel: TravelRule = TravelRule()
    exit: ExitRule = ExitRule()
    freshness: FreshnessRule = FreshnessRule()
    certificates: CertificateRules = CertificateRules()


class PolicyError(Exception):
    """The policy file is unreadable or invalid; the message says where."""


def load_policy(path: Path) -> Policy:
    """Read a policy file. Unknown keys are errors: a misspelt rule must not silently fall back to a default.
    (HQ's policy is read with `read_policy`, which leaves newer sections out instead.)"""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"policy file {path} is not valid TOML: {exc}") from exc
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise PolicyError(f"policy file {path} is invalid: {problems}") from exc


@dataclass(frozen=True)
class PolicyReading:
    """A policy as this version of the software reads it."""

    policy: Policy
    ignored: tuple[str, ...]
    """The sections and keys it does not know ('quarantine', 'temperature.retake_minutes'), sorted."""


def read_policy(data: Mapping[str, Any]) -> PolicyReading:
    """A policy published by HQ, as this version reads it. Every section and key it knows is checked as
    strictly as a policy file (a bad value is a PolicyError: the bundle carrying it is refused, as ever), while
    sections and keys it does not know, which a newer HQ publishes for newer gates, are left out and named: an
    older gate keeps taking its lists and applies the rules it has (the policy is kept whole where it is
    stored, so the gate uses them once it is updated)."""
    known, ignored = _known_part(data, Policy, "")
    try:
        policy = Policy.model_validate(known)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise PolicyError(f"invalid: {problems}") from exc
    return PolicyReading(policy, tuple(sorted(ignored)))


def _known_part(data: Mapping[str, Any], model: type[BaseModel], prefix: str) -> tuple[dict[str, Any], list[str]]:
    known: dict[str, Any] = {}
    ignored: list[str] = []
    for key, value in data.items():
        field = model.model_fields.get(key)
        if field is None:
            ignored.append(f"{prefix}{key}")
        elif isinstance(field.annotation, type) and issubclass(field.annotation, _Rules) and isinstance(value, Mapping):
            known[key], deeper = _known_part(value, field.annotation, f"{prefix}{key}.")
            ignored += deeper
        else:
            known[key] = value
    return known, ignored


def closest_policy_key(name: str) -> str | None:
    """The known key a dotted name not known here is probably a misspelling of ('temprature' -> 'temperature',
    'temperature.refuse_above' -> 'temperature.refuse_at_or_above'), or None."""
    *sections, last = name.split(".")
    model: type[BaseModel] = Policy
    for section in sections:
        annotation = model.model_fields[section].annotation
        assert isinstance(annotation, type) and issubclass(annotation, _Rules)
        model = annotation
    match = difflib.get_close_matches(last, list(model.model_fields), n=1, cutoff=0.75)
    return ".".join([*sections, match[0]]) if match else None


@dataclass(frozen=True)
class Presentation:
    """What was put in front of the gate: a verified credential's facts, or a manual entry's."""

    kind: str
    """'code', 'certificate' (EU DCC, SMART Health Card), 'manual' or 'visitor'."""
    subject: str | None
    name: str
    colour: Colour | None = None
    """The code's own colour; None for a manual entry or a certificate."""
    negative_test_at: datetime | None = None
    travel_risk: bool | None = None
    evidence: tuple[Evidence, ...] = ()
    """A certificate's tests, vaccinations and recoveries."""


@dataclass(frozen=True)
class PassInfo:
    """An HQ pass held by a non-resident."""

    kind: str
    valid_until: datetime


@dataclass(frozen=True)
class Knowledge:
    """What the gate's lists say about the person."""

    resident: bool = False
    hq_pass: PassInfo | None = None
    listed_colour: Colour | None = None


@dataclass(frozen=True)
class Finding:
    decision: Decision
    reason: str


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reasons: tuple[str, ...]
    """Plain words. When refused or held, the reasons that led there; when passed, why it passed."""
    colour: Colour | None
    """The colour in force after the red/yellow list was applied."""
    warnings: tuple[str, ...] = ()
    """What the keeper should know whatever the decision (e.g. the trust list is stale)."""


def _colour_findings(policy: Policy, who: Presentation, knows: Knowledge) -> tuple[Colour | None, list[Finding]]:
    if knows.listed_colour is not None:
        shown = f" (code shows {who.colour.value})" if who.colour and who.colour != knows.listed_colour else ""
        decision = getattr(policy.colours, knows.listed_colour.value)
        return knows.listed_colour, [Finding(decision, f"on HQ's {knows.listed_colour.value} list{shown}")]
    if who.colour is None:
        return None, [Finding(policy.colours.manual_unlisted, "not on HQ's red/yellow list")]
    return who.colour, [Finding(getattr(policy.colours, who.colour.value), f"{who.colour.value} code")]


def _test_findings(rule: NegativeTestRule, who: Presentation, now: datetime) -> list[Finding]:
    if not rule.required:
        return []
    if who.negative_test_at is None:
        return [Finding(Decision.REFUSE, "no negative test on record")]
    age = now - who.negative_test_at
    limit = timedelta(hours=rule.max_age_hours)
    hours = age.total_seconds() / 3600
    if age > limit:
        return [Finding(Decision.REFUSE, f"negative test is {hours:.0f} h old (limit {rule.max_age_hours:g} h)")]
    return [Finding(Decision.PASS, f"negative test {hours:.0f} h ago")]


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.0f} h"


def _test_evidence(rules: CertificateRules, evidence: Evidence, now: datetime) -> Finding:
    if evidence.test_type is None or evidence.test_result is None or evidence.sampled_at is None:
        return Finding(rules.nothing_counts, f"{evidence.describe()}: not a test the gate can read")
    if evidence.test_type is TestType.NAA:
        allowed, limit, rule, what = rules.naa_test, rules.naa_test_hours, "naa_test", "NAA test"
    else:
        allowed, limit, rule, what = rules.rapid_test, rules.rapid_test_hours, "rapid_test", "rapid antigen test"
    if not allowed:
        return Finding(rules.nothing_counts, f"a {what} does not count here (certificates.{rule} = false)")
    age = now - evidence.sampled_at
    if age < -timedelta(minutes=5):
        return Finding(rules.nothing_counts, f"{what} sample time is in the future")
    if age > timedelta(hours=limit):
        return Finding(
            rules.nothing_counts, f"negative {what} sampled {_hours(age)} ago (certificates.{rule}_hours: {limit:g} h)"
        )
    return Finding(Decision.PASS, f"negative {what} sampled {_hours(max(age, timedelta()))} ago")


def _vaccination_evidence(rules: CertificateRules, evidence: Evidence, now: datetime) -> Finding:
    if not rules.vaccination:
        return Finding(rules.nothing_counts, "a vaccination does not count here (certificates.vaccination = false)")
    if not evidence.complete or evidence.vaccinated_on is None:
        return Finding(rules.nothing_counts, f"{evidence.describe()}: series not complete")
    days = (now.date() - evidence.vaccinated_on).days
    if days < rules.vaccination_min_days:
        return Finding(
            rules.nothing_counts,
            f"last dose {days} days ago (certificates.vaccination_min_days: {rules.vaccination_min_days})",
        )
    if days > rules.vaccination_max_days:
        return Finding(
            rules.nothing_counts,
            f"last dose {days} days ago (certificates.vaccination_max_days: {rules.vaccination_max_days})",
        )
    return Finding(Decision.PASS, f"vaccinated, last dose {days} days ago")


def _recovery_evidence(rules: CertificateRules, evidence: Evidence, now: datetime) -> Finding:
    if not rules.recovery:
        return Finding(rules.nothing_counts, "a recovery does not count here (certificates.recovery = false)")
    if evidence.valid_from is None or evidence.valid_until is None:
        return Finding(rules.nothing_counts, "recovery without validity dates")
    if not evidence.valid_from <= now.date() <= evidence.valid_until:
        return Finding(rules.nothing_counts, f"{evidence.describe()}: not valid today")
    return Finding(Decision.PASS, f"recovered, valid until {evidence.valid_until}")


_EVIDENCE_JUDGES = {
    EvidenceKind.TEST: _test_evidence,
    EvidenceKind.VACCINATION: _vaccination_evidence,
    EvidenceKind.RECOVERY: _recovery_evidence,
}


def _certificate_findings(
    rules: CertificateRules, who: Presentation, now: datetime, *, leaving: bool
) -> list[Finding]:
    """A positive test refuses; otherwise one entry that counts passes; otherwise every entry says why not.
    Someone leaving is only stopped by a positive test (as a red code stays home): an old test is no reason
    to keep a visitor in."""
    positive = [e for e in who.evidence if e.kind is EvidenceKind.TEST and e.test_result is TestResult.POSITIVE]
    if positive:
        return [Finding(Decision.REFUSE, f"{positive[0].describe()}: a positive test never admits")]
    if leaving:
        return []
    if not who.evidence:
        return [Finding(rules.nothing_counts, "certificate holds no COVID-19 test, vaccination or recovery")]
    findings = [_EVIDENCE_JUDGES[e.kind](rules, e, now) for e in who.evidence]
    passing = [f for f in findings if f.decision is Decision.PASS]
    return passing[:1] or findings


def _stale_keys(rule: FreshnessRule, trust_updated_at: datetime | None, now: datetime) -> Finding | None:
    if trust_updated_at is None:
        return None
    age = now - trust_updated_at
    if age <= timedelta(hours=rule.keys_max_age_hours):
        return None
    limit = f"freshness.keys_max_age_hours: {rule.keys_max_age_hours:g} h"
    return Finding(rule.stale_keys, f"trust list is {_hours(age)} old ({limit})")


def _temperature_findings(rule: TemperatureRule, temperature: float | None) -> list[Finding]:
    """A reading no person can have (NaN, which no comparison catches, or one outside `kiosk.readings`' range)
    never passes: the person is held until it is taken again. The gate refuses such readings where they are
    typed; this is the rule's own guard."""
    if temperature is None:
        return [Finding(Decision.HOLD, "temperature not taken")] if rule.required else []
    if problem := temperature_problem(temperature):
        return [Finding(Decision.HOLD, f"temperature reading is not plausible: take it again ({problem})")]
    if temperature >= rule.refuse_at_or_above:
        return [
            Finding(Decision.REFUSE, f"temperature {temperature:.1f} °C (limit below {rule.refuse_at_or_above:.1f} °C)")
        ]
    return [Finding(Decision.PASS, f"temperature {temperature:.1f} °C")]


def _access_findings(rule: AccessRule, knows: Knowledge, now: datetime) -> list[Finding]:
    if knows.resident:
        return [Finding(Decision.PASS, "resident")]
    if knows.hq_pass is not None and knows.hq_pass.valid_until > now:
        return [Finding(Decision.PASS, f"{knows.hq_pass.kind} pass until {knows.hq_pass.valid_until:%Y-%m-%d %H:%M}")]
    return [Finding(rule.non_resident_without_pass, "not a resident and no valid pass from HQ")]


def judge(
    policy: Policy,
    who: Presentation,
    knows: Knowledge,
    *,
    temperature: float | None,
    direction: Direction,
    now: datetime,
    trust_updated_at: datetime | None = None,
) -> Verdict:
    """Apply every rule and combine: the most severe finding decides; every finding that is not a pass is
    reported, most severe first. A pass reports what it rested on.

    `trust_updated_at` is when the trust list the code was verified against was last refreshed; a stale one
    is always a warning, and the policy (`freshness.stale_keys`) says whether it also holds or refuses."""
    leaving = direction is Direction.OUT
    colour, colour_findings = _colour_findings(policy, who, knows)
    findings: list[Finding] = []
    warnings: list[str] = []
    stale = _stale_keys(policy.freshness, trust_updated_at, now) if who.kind in ("code", "certificate") else None
    if stale is not None:
        warnings.append(stale.reason)
        if stale.decision is not Decision.PASS:
            findings.append(stale)
    if not leaving or policy.exit.check_health:
        if who.kind == "certificate":
            findings += _certificate_findings(policy.certificates, who, now, leaving=leaving)
        else:
            findings += colour_findings
        findings += _test_findings(policy.negative_test, who, now)
        if who.travel_risk:
            findings.append(Finding(policy.travel.risk, "stayed in a medium/high risk area within 14 days"))
    if not leaving or policy.exit.check_temperature:
        findings += _temperature_findings(policy.temperature, temperature)
    if not leaving or policy.exit.check_access:
        findings += _access_findings(policy.access, knows, now)
    failing = sorted((f for f in findings if f.decision is not Decision.PASS), key=lambda f: -f.decision.severity)
    if failing:
        return Verdict(failing[0].decision, tuple(f.reason for f in failing), colour, tuple(warnings))
    return Verdict(Decision.PASS, tuple(f.reason for f in findings) or ("leaving",), colour, tuple(warnings))
