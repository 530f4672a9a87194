"""`[exit]`: which rules apply to people leaving (each rule names its switch: `Rule.when_leaving`)."""

from __future__ import annotations

from sync.core.policy.rule import Leaving, Rule, RuleSection
from sync.core.policy.verdicts import Case, Finding
from sync.core.i18n import N_, _


CHECKED = {"health": N_("health checked"), "access": N_("access checked"), "temperature": N_("temperature checked")}


class ExitRule(RuleSection):
    """Which rules apply to people leaving."""

    check_health: bool = True
    """Apply the colour, test and travel rules to people leaving (a red code stays home)."""
    check_access: bool = False
    """Apply the resident/pass rule to people leaving (off: visitors must be able to leave)."""
    check_temperature: bool = False
    """Apply the temperature rule to people leaving."""

    def checks(self, switch: Leaving) -> bool:
        """Whether the rules under this switch apply to people leaving."""
        return bool(getattr(self, f"check_{switch}"))

    def lines(self) -> list[tuple[str, str]]:
        checked = [_(CHECKED[switch]) for switch in ("health", "access", "temperature") if self.checks(switch)]
        return [(_("people leaving"), _(", ").join(checked) or _("not checked"))]


def no_findings(rule: ExitRule, case: Case) -> list[Finding]:
    """The exit switches judge nobody themselves: the judge reads them for every other rule."""
    return []


RULE = Rule("exit", ExitRule, no_findings, when_leaving=None)
