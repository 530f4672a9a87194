"""`[travel]`: a stay in a medium or high risk area within 14 days."""

from __future__ import annotations

from sync.core.i18n import N_, _
from sync.core.policy.rule import Rule, RuleSection
from sync.core.policy.verdicts import Case, Decision, Finding
from sync.core.wording import Wording

RISK_AREA = Wording(
    "travel.risk_area", N_("stayed in a risk area"), N_("stayed in a medium/high risk area within 14 days")
)


class TravelRule(RuleSection):
    """A stay in a medium or high risk area within the last 14 days."""

    risk: Decision = Decision.REFUSE
    """A code flagged for a stay in a medium or high risk area within the last 14 days."""

    def lines(self) -> list[tuple[str, str]]:
        return [(_("travel risk"), _(self.risk.word))]


def travel_findings(rule: TravelRule, case: Case) -> list[Finding]:
    if not case.who.travel_risk:
        return []
    return [Finding(rule.risk, RISK_AREA())]


RULE = Rule("travel", TravelRule, travel_findings, when_leaving="health")
