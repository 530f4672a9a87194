"""`[colours]`: what each health-code colour leads to, the red/yellow list's colour first."""

from __future__ import annotations

from sync.core.policy.rule import Rule, RuleSection
from sync.core.policy.verdicts import Case, Decision, Finding


class ColourRules(RuleSection):
    """What each health-code colour leads to."""

    green: Decision = Decision.PASS
    """A green code passes (other rules may still refuse)."""
    yellow: Decision = Decision.REFUSE
    """Yellow: at risk; refused by default, some districts hold for a check instead."""
    red: Decision = Decision.REFUSE
    """Red: confirmed or close contact; always refused by default."""
    manual_unlisted: Decision = Decision.PASS
    """A person with no phone code, checked by ID number, who is not on HQ's red/yellow list."""

    def lines(self) -> list[tuple[str, str]]:
        return [
            ("code colours", f"green {self.green}, yellow {self.yellow}, red {self.red}"),
            ("no code, not listed", str(self.manual_unlisted)),
        ]


def colour_findings(rules: ColourRules, case: Case) -> list[Finding]:
    """HQ's red/yellow list overrides the code's own colour; a certificate has none (see `certificates`)."""
    who, knows = case.who, case.knows
    if who.kind == "certificate":
        return []
    if knows.listed_colour is not None:
        shown = f" (code shows {who.colour.value})" if who.colour and who.colour != knows.listed_colour else ""
        decision = getattr(rules, knows.listed_colour.value)
        return [Finding(decision, f"on HQ's {knows.listed_colour.value} list{shown}")]
    if who.colour is None:
        return [Finding(rules.manual_unlisted, "not on HQ's red/yellow list")]
    return [Finding(getattr(rules, who.colour.value), f"{who.colour.value} code")]


RULE = Rule("colours", ColourRules, colour_findings, when_leaving="health")
