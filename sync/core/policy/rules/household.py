"""`[household]`: closed-management notices limit outings per household ("one member every two days"). The gate
counts the household's outings (people of the same roster `unit` who passed out) over the period and says the
count in the verdict of everyone leaving.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from sync.core.i18n import N_, _
from sync.core.policy.rule import Rule, RuleSection
from sync.core.policy.verdicts import Case, Decision, Finding
from sync.core.wording import Wording

WINDOW_HOURS = 336
"""The longest period a policy may count over (two weeks): the gate looks back no further."""

WITHIN = Wording(
    "household.within",
    N_("household outing within its limit"),
    N_("outing {count} of household {unit} in {hours} h (limit {limit})"),
)
OVER = Wording(
    "household.over",
    N_("household outings over the limit"),
    N_("outing {count} of household {unit} in {hours} h: limit {limit}"),
)


class HouseholdRule(RuleSection):
    """Household outings: how many times members of one household (roster unit) may go out per period."""

    outings: int = Field(0, ge=0, le=100)
    """Outings allowed per household in each period (0: no limit)."""
    period_hours: int = Field(48, ge=1, le=WINDOW_HOURS)
    """The period counted, ending now (48: "one member every two days" with outings = 1)."""
    over_limit: Decision = Decision.REFUSE
    """What an outing past the limit leads to: "refuse", "hold" (the keeper decides) or "pass" (counted only)."""

    def lines(self) -> list[tuple[str, str]]:
        if not self.outings:
            return [(_("household outings"), _("no limit"))]
        said = _("{outings} per household in {hours} h, then {decision}").format(
            outings=self.outings, hours=self.period_hours, decision=_(self.over_limit.word)
        )
        return [(_("household outings"), said)]


def household_findings(rule: HouseholdRule, case: Case) -> list[Finding]:
    """Only people leaving are counted, and only residents (a household is a roster unit)."""
    household = case.knows.household
    if not rule.outings or not case.leaving or household is None:
        return []
    since = case.now - timedelta(hours=rule.period_hours)
    count = sum(since < moment <= case.now for moment in case.knows.household_outings) + 1
    params = {"count": count, "unit": household, "hours": rule.period_hours, "limit": rule.outings}
    if count > rule.outings:
        return [Finding(rule.over_limit, OVER(**params), warning=rule.over_limit is Decision.PASS)]
    return [Finding(Decision.PASS, WITHIN(**params))]


RULE = Rule("household", HouseholdRule, household_findings, when_leaving=None)
