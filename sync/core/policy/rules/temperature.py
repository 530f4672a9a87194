"""`[temperature]`: the body temperature limit, and whether a reading is required."""

from __future__ import annotations

from sync.core.i18n import N_, _
from sync.core.policy.rule import Rule, RuleSection
from sync.core.policy.verdicts import Case, Decision, Finding
from sync.core.readings import HIGHEST_C, LOWEST_C, BodyTemperature, temperature_problem
from sync.core.wording import Wording

NOT_TAKEN = Wording("temperature.not_taken", N_("temperature not taken"), N_("temperature not taken"))
IMPLAUSIBLE = Wording(
    "temperature.implausible",
    N_("temperature reading not plausible"),
    N_("temperature reading is not plausible: take it again (a temperature between {low:g} and {high:g} °C, please "
       "(was {reading:g}))"),
)
TOO_HIGH = Wording(
    "temperature.too_high",
    N_("temperature too high"),
    N_("temperature {celsius:.1f} °C (limit below {limit:.1f} °C)"),
)
NORMAL = Wording("temperature.normal", N_("temperature normal"), N_("temperature {celsius:.1f} °C"))


class TemperatureRule(RuleSection):
    """The body temperature limit."""

    refuse_at_or_above: BodyTemperature = 37.3
    """Degrees Celsius; a reading at or above this is refused."""
    required: bool = False
    """Hold anyone whose temperature was not taken."""

    def lines(self) -> list[tuple[str, str]]:
        said = _("refused at or above {limit:.1f} °C").format(limit=self.refuse_at_or_above)
        if self.required:
            said = _("{rule}; must be taken").format(rule=said)
        return [(_("temperature"), said)]


def temperature_findings(rule: TemperatureRule, case: Case) -> list[Finding]:
    """A reading no person can have (NaN, which no comparison catches, or one outside `sync.core.readings`'
    range) never passes: the person is held until it is taken again. The gate refuses such readings where they
    are typed; this is the rule's own guard."""
    temperature = case.temperature
    if temperature is None:
        return [Finding(Decision.HOLD, NOT_TAKEN())] if rule.required else []
    if temperature_problem(temperature):
        return [Finding(Decision.HOLD, IMPLAUSIBLE(low=LOWEST_C, high=HIGHEST_C, reading=temperature))]
    if temperature >= rule.refuse_at_or_above:
        return [Finding(Decision.REFUSE, TOO_HIGH(celsius=temperature, limit=rule.refuse_at_or_above))]
    return [Finding(Decision.PASS, NORMAL(celsius=temperature))]


RULE = Rule("temperature", TemperatureRule, temperature_findings, when_leaving="temperature")
