"""`[temperature]`: the body temperature limit, and whether a reading is required."""

from __future__ import annotations

from sync.core.policy.rule import Rule, RuleSection
from sync.core.policy.verdicts import Case, Decision, Finding
from sync.core.readings import BodyTemperature, temperature_problem


class TemperatureRule(RuleSection):
    """The body temperature limit."""

    refuse_at_or_above: BodyTemperature = 37.3
    """Degrees Celsius; a reading at or above this is refused."""
    required: bool = False
    """Hold anyone whose temperature was not taken."""

    def lines(self) -> list[tuple[str, str]]:
        taken = "; must be taken" if self.required else ""
        return [("temperature", f"refused at or above {self.refuse_at_or_above:.1f} °C{taken}")]


def temperature_findings(rule: TemperatureRule, case: Case) -> list[Finding]:
    """A reading no person can have (NaN, which no comparison catches, or one outside `sync.core.readings`'
    range) never passes: the person is held until it is taken again. The gate refuses such readings where they
    are typed; this is the rule's own guard."""
    temperature = case.temperature
    if temperature is None:
        return [Finding(Decision.HOLD, "temperature not taken")] if rule.required else []
    if problem := temperature_problem(temperature):
        return [Finding(Decision.HOLD, f"temperature reading is not plausible: take it again ({problem})")]
    if temperature >= rule.refuse_at_or_above:
        return [
            Finding(Decision.REFUSE, f"temperature {temperature:.1f} °C (limit below {rule.refuse_at_or_above:.1f} °C)")
        ]
    return [Finding(Decision.PASS, f"temperature {temperature:.1f} °C")]


RULE = Rule("temperature", TemperatureRule, temperature_findings, when_leaving="temperature")
