"""`[presence]`: who is inside. The gate knows, per person, whether they last went in or out; entering again
without having left (or leaving again without having come back) is the commonest trick at a closed gate: a
screenshot of someone else's code, shared on a phone.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from sync.core.i18n import N_, _
from sync.core.policy.rule import Rule, RuleSection
from sync.core.policy.verdicts import Case, Decision, Direction, Finding
from sync.core.wording import Wording

ENTERED_TWICE = Wording(
    "presence.entered_twice",
    N_("entered again without leaving"),
    N_("entered {at} and never left: screenshot of someone else's code?"),
    times=("at",),
)
LEFT_TWICE = Wording(
    "presence.left_twice",
    N_("left again without coming back"),
    N_("left {at} and never came back in: screenshot of someone else's code?"),
    times=("at",),
)


class PresenceRule(RuleSection):
    """Who is inside: a second entry without leaving, or a second exit without entering."""

    repeat: Decision = Decision.HOLD
    """A person who passed this gate the same way last time and not the other way since: "hold" to ask (and
    check the face against the code), "refuse", or "pass" (the reason is still shown as a warning)."""

    two_gates_window_minutes: Annotated[int, Field(ge=0, le=7 * 24 * 60)] = 30
    """HQ raises an alert when one code enters at two different gates this many minutes apart or less without
    leaving in between (one code on two phones); 0: no such alert. Judged at HQ, which sees every gate."""

    def lines(self) -> list[tuple[str, str]]:
        return [(_("the same way twice"), _(self.repeat.word))]


def presence_findings(rule: PresenceRule, case: Case) -> list[Finding]:
    """Only passages count (a refused attempt moves nobody); a person the gate has never seen is judged as new."""
    last = case.knows.last_passage
    if last is None or last.direction is not case.direction:
        return []
    wording = ENTERED_TWICE if case.direction is Direction.IN else LEFT_TWICE
    return [Finding(rule.repeat, wording(at=last.at), warning=rule.repeat is Decision.PASS)]


RULE = Rule("presence", PresenceRule, presence_findings, when_leaving=None)
