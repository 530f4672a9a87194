"""`[colours]`: what each health-code colour leads to, the red/yellow list's colour first."""

from __future__ import annotations

from sync.core.codes.base import Colour
from sync.core.i18n import N_, _
from sync.core.policy.rule import Rule, RuleSection
from sync.core.policy.verdicts import Case, Decision, Finding
from sync.core.wording import Wording

LISTED = {
    Colour.RED: Wording("colours.red_listed", N_("on HQ's red list"), N_("on HQ's red list")),
    Colour.YELLOW: Wording("colours.yellow_listed", N_("on HQ's yellow list"), N_("on HQ's yellow list")),
    Colour.GREEN: Wording("colours.green_listed", N_("on HQ's green list"), N_("on HQ's green list")),
}
LISTED_OVER_CODE = {
    colour: Wording(
        f"{wording.code}_over_code",
        wording.label,
        f"{wording.text} (code shows {{shown}})",
        words=("shown",),
        counted_as=wording.code,
    )
    for colour, wording in LISTED.items()
}
N_("on HQ's red list (code shows {shown})")
N_("on HQ's yellow list (code shows {shown})")
N_("on HQ's green list (code shows {shown})")
NOT_LISTED = Wording("colours.not_listed", N_("not on HQ's list"), N_("not on HQ's red/yellow list"))
CODE_COLOUR = {
    Colour.RED: Wording("colours.red_code", N_("red code"), N_("red code")),
    Colour.YELLOW: Wording("colours.yellow_code", N_("yellow code"), N_("yellow code")),
    Colour.GREEN: Wording("colours.green_code", N_("green code"), N_("green code")),
}
N_("green")
N_("yellow")
N_("red")


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
            (
                _("code colours"),
                _("green {green}, yellow {yellow}, red {red}").format(
                    green=_(self.green.word), yellow=_(self.yellow.word), red=_(self.red.word)
                ),
            ),
            (_("no code, not listed"), _(self.manual_unlisted.word)),
        ]


def colour_findings(rules: ColourRules, case: Case) -> list[Finding]:
    """HQ's red/yellow list overrides the code's own colour; a certificate has none (see `certificates`)."""
    who, knows = case.who, case.knows
    if who.kind == "certificate":
        return []
    if knows.listed_colour is not None:
        decision = getattr(rules, knows.listed_colour.value)
        if who.colour and who.colour != knows.listed_colour:
            return [Finding(decision, LISTED_OVER_CODE[knows.listed_colour](shown=who.colour.value))]
        return [Finding(decision, LISTED[knows.listed_colour]())]
    if who.colour is None:
        return [Finding(rules.manual_unlisted, NOT_LISTED())]
    return [Finding(getattr(rules, who.colour.value), CODE_COLOUR[who.colour]())]


RULE = Rule("colours", ColourRules, colour_findings, when_leaving="health")
