"""`[certificates]`: which entries of a standard health certificate (EU DCC, SMART Health Card) count."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field, model_validator

from sync.core.codes.base import Evidence, EvidenceKind, TestResult, TestType
from sync.core.i18n import N_, _
from sync.core.policy.rule import Rule, RuleSection
from sync.core.policy.verdicts import Case, Decision, Finding
from sync.core.wording import Wording

UNREADABLE_TEST = Wording(
    "certificates.unreadable_test", N_("test not readable"), N_("{evidence}: not a test the gate can read")
)
NOT_ACCEPTED = Wording(
    "certificates.not_accepted",
    N_("kind of entry not accepted"),
    N_("a {what} does not count here (certificates.{setting} = false)"),
    words=("what",),
)
SAMPLED_IN_FUTURE = Wording(
    "certificates.sampled_in_future", N_("sample time in the future"), N_("{what} sample time is in the future"),
    words=("what",),
)
TEST_TOO_OLD = Wording(
    "certificates.test_too_old",
    N_("test too old"),
    N_("negative {what} sampled {hours:.0f} h ago (certificates.{setting}_hours: {limit:g} h)"),
    words=("what",),
)
TEST_RECENT = Wording(
    "certificates.test_recent", N_("recent negative test"), N_("negative {what} sampled {hours:.0f} h ago"),
    words=("what",),
)
SERIES_INCOMPLETE = Wording(
    "certificates.series_incomplete", N_("vaccination series not complete"), N_("{evidence}: series not complete")
)
DOSE_TOO_RECENT = Wording(
    "certificates.dose_too_recent",
    N_("last dose too recent"),
    N_("last dose {days} days ago (certificates.vaccination_min_days: {limit})"),
)
DOSE_TOO_OLD = Wording(
    "certificates.dose_too_old",
    N_("last dose too long ago"),
    N_("last dose {days} days ago (certificates.vaccination_max_days: {limit})"),
)
VACCINATED = Wording("certificates.vaccinated", N_("vaccinated"), N_("vaccinated, last dose {days} days ago"))
RECOVERY_UNDATED = Wording(
    "certificates.recovery_undated", N_("recovery without dates"), N_("recovery without validity dates")
)
RECOVERY_NOT_VALID = Wording(
    "certificates.recovery_not_valid", N_("recovery not valid today"), N_("{evidence}: not valid today")
)
RECOVERED = Wording("certificates.recovered", N_("recovered"), N_("recovered, valid until {until}"))
POSITIVE = Wording("certificates.positive", N_("positive test"), N_("{evidence}: a positive test never admits"))
EMPTY = Wording(
    "certificates.empty",
    N_("nothing on the certificate counts"),
    N_("certificate holds no COVID-19 test, vaccination or recovery"),
)
N_("vaccination")
N_("recovery")


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
            _("negative NAA test within {hours:g} h").format(hours=self.naa_test_hours) if self.naa_test else "",
            _("negative rapid test within {hours:g} h").format(hours=self.rapid_test_hours) if self.rapid_test else "",
            _("vaccination {low} to {high} days old").format(low=self.vaccination_min_days, high=self.vaccination_max_days)
            if self.vaccination
            else "",
            _("recovery while valid") if self.recovery else "",
        ]
        counts = _("; ").join(text for text in counted if text) or _("nothing")
        said = _("count: {counts}; otherwise {then}").format(counts=counts, then=_(self.nothing_counts.word))
        return [(_("certificates"), said)]


def _test_evidence(rules: CertificateRules, evidence: Evidence, now: datetime) -> Finding:
    if evidence.test_type is None or evidence.test_result is None or evidence.sampled_at is None:
        return Finding(rules.nothing_counts, UNREADABLE_TEST(evidence=evidence.describe()))
    if evidence.test_type is TestType.NAA:
        allowed, limit, rule, what = rules.naa_test, rules.naa_test_hours, "naa_test", "NAA test"
    else:
        allowed, limit, rule, what = rules.rapid_test, rules.rapid_test_hours, "rapid_test", "rapid antigen test"
    if not allowed:
        return Finding(rules.nothing_counts, NOT_ACCEPTED(what=what, setting=rule))
    age = now - evidence.sampled_at
    if age < -timedelta(minutes=5):
        return Finding(rules.nothing_counts, SAMPLED_IN_FUTURE(what=what))
    if age > timedelta(hours=limit):
        return Finding(rules.nothing_counts, TEST_TOO_OLD(what=what, hours=_hours(age), setting=rule, limit=limit))
    return Finding(Decision.PASS, TEST_RECENT(what=what, hours=_hours(max(age, timedelta()))))


def _hours(age: timedelta) -> int:
    return round(age.total_seconds() / 3600)


def _vaccination_evidence(rules: CertificateRules, evidence: Evidence, now: datetime) -> Finding:
    if not rules.vaccination:
        return Finding(rules.nothing_counts, NOT_ACCEPTED(what="vaccination", setting="vaccination"))
    if not evidence.complete or evidence.vaccinated_on is None:
        return Finding(rules.nothing_counts, SERIES_INCOMPLETE(evidence=evidence.describe()))
    days = (now.date() - evidence.vaccinated_on).days
    if days < rules.vaccination_min_days:
        return Finding(rules.nothing_counts, DOSE_TOO_RECENT(days=days, limit=rules.vaccination_min_days))
    if days > rules.vaccination_max_days:
        return Finding(rules.nothing_counts, DOSE_TOO_OLD(days=days, limit=rules.vaccination_max_days))
    return Finding(Decision.PASS, VACCINATED(days=days))


def _recovery_evidence(rules: CertificateRules, evidence: Evidence, now: datetime) -> Finding:
    if not rules.recovery:
        return Finding(rules.nothing_counts, NOT_ACCEPTED(what="recovery", setting="recovery"))
    if evidence.valid_from is None or evidence.valid_until is None:
        return Finding(rules.nothing_counts, RECOVERY_UNDATED())
    if not evidence.valid_from <= now.date() <= evidence.valid_until:
        return Finding(rules.nothing_counts, RECOVERY_NOT_VALID(evidence=evidence.describe()))
    return Finding(Decision.PASS, RECOVERED(until=str(evidence.valid_until)))


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
        return [Finding(Decision.REFUSE, POSITIVE(evidence=positive[0].describe()))]
    if case.leaving:
        return []
    if not who.evidence:
        return [Finding(rules.nothing_counts, EMPTY())]
    findings = [_EVIDENCE_JUDGES[e.kind](rules, e, case.now) for e in who.evidence]
    passing = [f for f in findings if f.decision is Decision.PASS]
    return passing[:1] or findings


RULE = Rule("certificates", CertificateRules, certificate_findings, when_leaving="health")
