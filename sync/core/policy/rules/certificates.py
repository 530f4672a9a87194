"""`[certificates]`: which entries of a standard health certificate (EU DCC, SMART Health Card) count."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field, model_validator

from sync.core.codes.base import Evidence, EvidenceKind, TestResult, TestType
from sync.core.policy.rule import Rule, RuleSection, hours
from sync.core.policy.verdicts import Case, Decision, Finding


class CertificateRules(RuleSection):
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

    def lines(self) -> list[tuple[str, str]]:
        counted = [
            f"negative NAA test within {self.naa_test_hours:g} h" if self.naa_test else "",
            f"negative rapid test within {self.rapid_test_hours:g} h" if self.rapid_test else "",
            f"vaccination {self.vaccination_min_days} to {self.vaccination_max_days} days old" if self.vaccination else "",
            "recovery while valid" if self.recovery else "",
        ]
        counts = "; ".join(text for text in counted if text) or "nothing"
        return [("certificates", f"count: {counts}; otherwise {self.nothing_counts}")]


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
            rules.nothing_counts, f"negative {what} sampled {hours(age)} ago (certificates.{rule}_hours: {limit:g} h)"
        )
    return Finding(Decision.PASS, f"negative {what} sampled {hours(max(age, timedelta()))} ago")


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


def certificate_findings(rules: CertificateRules, case: Case) -> list[Finding]:
    """A positive test refuses; otherwise one entry that counts passes; otherwise every entry says why not.
    Someone leaving is only stopped by a positive test (as a red code stays home): an old test is no reason
    to keep a visitor in."""
    who = case.who
    if who.kind != "certificate":
        return []
    positive = [e for e in who.evidence if e.kind is EvidenceKind.TEST and e.test_result is TestResult.POSITIVE]
    if positive:
        return [Finding(Decision.REFUSE, f"{positive[0].describe()}: a positive test never admits")]
    if case.leaving:
        return []
    if not who.evidence:
        return [Finding(rules.nothing_counts, "certificate holds no COVID-19 test, vaccination or recovery")]
    findings = [_EVIDENCE_JUDGES[e.kind](rules, e, case.now) for e in who.evidence]
    passing = [f for f in findings if f.decision is Decision.PASS]
    return passing[:1] or findings


RULE = Rule("certificates", CertificateRules, certificate_findings, when_leaving="health")
