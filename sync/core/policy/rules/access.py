"""`[access]`: residents pass; others need a valid pass from HQ."""

from __future__ import annotations

from sync.core.policy.rule import Rule, RuleSection
from sync.core.policy.verdicts import Case, Decision, Finding


class AccessRule(RuleSection):
    """Who may come in besides the residents."""

    non_resident_without_pass: Decision = Decision.REFUSE
    """Someone not on the roster and without a valid HQ pass (staff, special vehicles, visitors)."""

    def lines(self) -> list[tuple[str, str]]:
        return [("non-resident without pass", str(self.non_resident_without_pass))]


def access_findings(rule: AccessRule, case: Case) -> list[Finding]:
    knows, now = case.knows, case.now
    if knows.resident:
        return [Finding(Decision.PASS, "resident")]
    if knows.hq_pass is not None and knows.hq_pass.valid_until > now:
        return [Finding(Decision.PASS, f"{knows.hq_pass.kind} pass until {knows.hq_pass.valid_until:%Y-%m-%d %H:%M}")]
    return [Finding(rule.non_resident_without_pass, "not a resident and no valid pass from HQ")]


RULE = Rule("access", AccessRule, access_findings, when_leaving="access")
