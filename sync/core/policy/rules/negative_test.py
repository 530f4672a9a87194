"""`[negative_test]`: a recent negative nucleic-acid test, where one is required."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from sync.core.i18n import N_, _
from sync.core.policy.rule import Rule, RuleSection
from sync.core.policy.verdicts import Case, Decision, Finding
from sync.core.wording import Wording

MISSING = Wording("negative_test.missing", N_("no negative test"), N_("no negative test on record"))
TOO_OLD = Wording(
    "negative_test.too_old", N_("negative test too old"), N_("negative test is {hours:.0f} h old (limit {limit:g} h)")
)
RECENT = Wording("negative_test.recent", N_("recent negative test"), N_("negative test {hours:.0f} h ago"))


class NegativeTestRule(RuleSection):
    """Whether a recent negative nucleic-acid test is needed to pass."""

    required: bool = False
    """Whether a recent negative nucleic-acid test is needed to pass."""
    max_age_hours: float = Field(72, gt=0)
    """A negative test older than this does not count (field practice: 48 or 72 hours)."""

    def lines(self) -> list[tuple[str, str]]:
        said = _("required, at most {hours:g} h old").format(hours=self.max_age_hours) if self.required else _("not required")
        return [(_("negative test"), said)]


def test_findings(rule: NegativeTestRule, case: Case) -> list[Finding]:
    if not rule.required:
        return []
    if case.who.negative_test_at is None:
        return [Finding(Decision.REFUSE, MISSING())]
    age = case.now - case.who.negative_test_at
    limit = timedelta(hours=rule.max_age_hours)
    hours = age.total_seconds() / 3600
    if age > limit:
        return [Finding(Decision.REFUSE, TOO_OLD(hours=round(hours), limit=rule.max_age_hours))]
    return [Finding(Decision.PASS, RECENT(hours=round(hours)))]


RULE = Rule("negative_test", NegativeTestRule, test_findings, when_leaving="health")
