"""`[access]`: residents pass; others need a valid pass from HQ."""

from __future__ import annotations

from sync.core.i18n import N_, _
from sync.core.policy.rule import Rule, RuleSection
from sync.core.policy.verdicts import Case, Decision, Finding
from sync.core.wording import Wording

RESIDENT = Wording("access.resident", N_("resident"), N_("resident"))
HQ_PASS = Wording("access.hq_pass", N_("HQ pass"), N_("{kind} pass until {until}"), times=("until",), words=("kind",))
NO_PASS = Wording("access.no_pass", N_("no valid pass"), N_("not a resident and no valid pass from HQ"))
N_("staff")
N_("visitor")
N_("courier")
N_("vehicle")


class AccessRule(RuleSection):
    """Who may come in besides the residents."""

    non_resident_without_pass: Decision = Decision.REFUSE
    """Someone not on the roster and without a valid HQ pass (staff, special vehicles, visitors)."""

    def lines(self) -> list[tuple[str, str]]:
        return [(_("non-resident without pass"), _(self.non_resident_without_pass.word))]


def access_findings(rule: AccessRule, case: Case) -> list[Finding]:
    knows, now = case.knows, case.now
    if knows.resident:
        return [Finding(Decision.PASS, RESIDENT())]
    if knows.hq_pass is not None and knows.hq_pass.valid_until > now:
        return [Finding(Decision.PASS, HQ_PASS(kind=knows.hq_pass.kind, until=knows.hq_pass.valid_until))]
    return [Finding(rule.non_resident_without_pass, NO_PASS())]


RULE = Rule("access", AccessRule, access_findings, when_leaving="access")
