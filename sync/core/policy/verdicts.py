"""What the policy judges and what it says: the case in front of the gate, each rule's findings, the verdict.

Plain data, shared by every rule (`sync.core.policy.rules`) and by both programs: the gate judges with them, HQ
counts what they said.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sync.core.codes.base import Colour, Evidence
from sync.core.i18n import N_


class Decision(StrEnum):
    """Verdict words, in increasing severity."""

    PASS = "pass"
    HOLD = "hold"
    REFUSE = "refuse"

    @property
    def severity(self) -> int:
        return list(Decision).index(self)

    @property
    def word(self) -> str:
        """The decision as a setting's value reads to people (marked for translation; show it with `_()`)."""
        return DECISION_WORDS[self]


DECISION_WORDS = {Decision.PASS: N_("pass"), Decision.HOLD: N_("hold"), Decision.REFUSE: N_("refuse")}


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


@dataclass(frozen=True)
class Presentation:
    """What was put in front of the gate: a verified credential's facts, or a manual entry's."""

    kind: str
    """'code', 'certificate' (EU DCC, SMART Health Card), 'manual', 'visitor' or 'companion'."""
    subject: str | None
    name: str
    colour: Colour | None = None
    """The code's own colour; None for a manual entry or a certificate."""
    negative_test_at: datetime | None = None
    travel_risk: bool | None = None
    evidence: tuple[Evidence, ...] = ()
    """A certificate's tests, vaccinations and recoveries."""
    with_decision: Decision | None = None
    """For a companion ('companion'): the verdict of the person they came with."""
    host_confirmed: bool = False
    """For a visitor ('visitor'): the keeper confirmed the visit by phone with the household visited."""


@dataclass(frozen=True)
class PassInfo:
    """An HQ pass held by a non-resident."""

    kind: str
    valid_until: datetime


@dataclass(frozen=True)
class Passage:
    """A time the person went through the gate (an entry that passed): which way, and when."""

    direction: Direction
    at: datetime


@dataclass(frozen=True)
class Knowledge:
    """What the gate's lists say about the person."""

    resident: bool = False
    hq_pass: PassInfo | None = None
    listed_colour: Colour | None = None
    last_passage: Passage | None = None
    """The person's last passage through this gate (None: never seen passing)."""
    household: str | None = None
    """The person's household (roster unit), when a resident."""
    household_outings: tuple[datetime, ...] = ()
    """When members of that household passed out of this gate, in the last two weeks."""


@dataclass(frozen=True)
class Case:
    """Everything a rule may look at: who, what the lists say, the reading, the direction and the moment."""

    who: Presentation
    knows: Knowledge
    temperature: float | None
    direction: Direction
    now: datetime
    trust_updated_at: datetime | None = None
    """When the trust list the code was verified against was last refreshed (None: files only, no age)."""
    lists_checked_at: datetime | None = None
    """When HQ last confirmed the gate's lists are current (None: they never came from HQ, no age)."""

    @property
    def leaving(self) -> bool:
        return self.direction is Direction.OUT


@dataclass(frozen=True)
class Finding:
    decision: Decision
    reason: str
    warning: bool = False
    """Also shown as a warning, whatever the verdict (a stale trust list); a warning that passes is not one of
    the reasons a pass rested on."""


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reasons: tuple[str, ...]
    """Plain words. When refused or held, the reasons that led there; when passed, why it passed."""
    colour: Colour | None
    """The colour in force after the red/yellow list was applied."""
    warnings: tuple[str, ...] = ()
    """What the keeper should know whatever the decision (e.g. the trust list is stale)."""
