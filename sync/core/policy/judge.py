"""Judging: every registered rule's findings combined into one verdict.

`judge()` is a pure function of what was presented (a verified credential or a manual entry), what the gate
knows about that person (resident? HQ pass? on the red/yellow list?), the temperature and the direction. It
never touches the database, so every rule is tested on its own.
"""

from __future__ import annotations

from datetime import datetime

from sync.core.i18n import N_
from sync.core.policy.rules import RULES
from sync.core.policy.rules.exit import ExitRule
from sync.core.policy.shape import Policy
from sync.core.policy.verdicts import Case, Decision, Direction, Finding, Knowledge, Presentation, Verdict
from sync.core.wording import Wording

LEAVING = Wording("exit.leaving", N_("leaving"), N_("leaving"))


def judge(
    policy: Policy,
    who: Presentation,
    knows: Knowledge,
    *,
    temperature: float | None,
    direction: Direction,
    now: datetime,
    trust_updated_at: datetime | None = None,
    lists_checked_at: datetime | None = None,
) -> Verdict:
    """Apply every rule and combine: the most severe finding decides; every finding that is not a pass is
    reported, most severe first. A pass reports what it rested on.

    Someone leaving is judged only by the rules the `[exit]` section switches on for them. `trust_updated_at`
    is when the trust list the code was verified against was last refreshed, `lists_checked_at` when HQ last
    confirmed the lists (see the `[freshness]` rule)."""
    case = Case(who, knows, temperature, direction, now, trust_updated_at, lists_checked_at)
    leaving_checks = policy.section(ExitRule)
    findings: list[Finding] = []
    for rule in RULES:
        if case.leaving and rule.when_leaving is not None and not leaving_checks.checks(rule.when_leaving):
            continue
        findings += rule.findings(getattr(policy, rule.name), case)
    colour = knows.listed_colour if knows.listed_colour is not None else who.colour
    warnings = tuple(f.reason for f in findings if f.warning)
    failing = sorted((f for f in findings if f.decision is not Decision.PASS), key=lambda f: -f.decision.severity)
    if failing:
        return Verdict(failing[0].decision, tuple(f.reason for f in failing), colour, warnings)
    passed = tuple(f.reason for f in findings if not f.warning)
    return Verdict(Decision.PASS, passed or (LEAVING(),), colour, warnings)
