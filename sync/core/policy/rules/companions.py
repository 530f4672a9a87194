"""`[companions]`: people without a phone who come with someone (a child, an elderly parent). Each is judged as a
person of their own, by every rule, and never passes where the person they came with did not: a companion of a
refused person is refused, of a held one held.
"""

from __future__ import annotations

from pydantic import Field

from sync.core.i18n import N_, _
from sync.core.policy.rule import Rule, RuleSection
from sync.core.policy.verdicts import Case, Decision, Finding
from sync.core.wording import Wording

WITH_REFUSED = Wording("companions.with_refused", N_("with a refused person"), N_("came with a person who was refused"))
WITH_HELD = Wording("companions.with_held", N_("with a held person"), N_("came with a person who is held"))
CHILD = Wording(
    "companions.child", N_("child without ID"), N_("child under {age} without an ID, with the person they came with")
)


class CompanionRules(RuleSection):
    """People who come with someone and have no phone."""

    child_without_id_under: int = Field(14, ge=0, le=18)
    """A child younger than this may be added without an ID number, judged as a member of the adult's household
    (0: every companion needs an ID number)."""

    def lines(self) -> list[tuple[str, str]]:
        if not self.child_without_id_under:
            return [(_("companions"), _("every companion needs an ID number"))]
        return [(_("companions"), _("children under {age} without ID").format(age=self.child_without_id_under))]


def companion_findings(rules: CompanionRules, case: Case) -> list[Finding]:
    with_decision = case.who.with_decision
    if case.who.kind != "companion" or with_decision is None:
        return []
    findings = []
    if case.who.subject is None:
        findings.append(Finding(Decision.PASS, CHILD(age=rules.child_without_id_under)))
    if with_decision is Decision.REFUSE:
        findings.append(Finding(Decision.REFUSE, WITH_REFUSED()))
    elif with_decision is Decision.HOLD:
        findings.append(Finding(Decision.HOLD, WITH_HELD()))
    return findings


RULE = Rule("companions", CompanionRules, companion_findings, when_leaving=None)
