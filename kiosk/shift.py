"""A shift's counters and its handover summary, computed from entry rows so the screen and the log agree.

A temperature taken right after a scan is logged as a new entry that amends the first (the chain is append
only); for counting, the amending entry replaces the one it amends, so a person is counted once with their
final verdict.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from sync.core.csvcell import safe_cell
from kiosk.export import details_of, read_entries, write_csv
from kiosk.operators import Shift
from kiosk.keeper_locale import local, zone
from sync.core.i18n import N_, _
from sync.core.policy import Decision, Direction
from sync.core.refusals import entry_reasons, kind_label, reason_kind


REFUSED_OR_HELD = N_("refused or held: {reason}")


@dataclass(frozen=True)
class _Counted:
    direction: str
    verdict: str
    reasons: tuple[str, ...]


@dataclass
class ShiftTally:
    """Running counts for a shift in the words HQ uses too: attempts (one per person judged; an amendment replaces
    what it amends), people let in, people who left, refused and held, and refusals by reason."""

    _latest: dict[str, _Counted] = field(default_factory=dict)

    def add(self, row: Mapping[str, Any]) -> None:
        """Count one entry row (as the store returns it); an amending row replaces the row it amends."""
        amends = details_of(row).get("amends")
        if amends:
            self._latest.pop(amends, None)
        reasons = entry_reasons(row["reasons"], row.get("reason_codes"))
        self._latest[row["id"]] = _Counted(row["direction"], row["verdict"], tuple(reasons))

    def add_all(self, rows: Iterable[Mapping[str, Any]]) -> ShiftTally:
        for row in rows:
            self.add(row)
        return self

    def _count(self, verdict: Decision, direction: Direction | None = None) -> int:
        return sum(
            1
            for c in self._latest.values()
            if c.verdict == verdict.value and (direction is None or c.direction == direction.value)
        )

    @property
    def entered(self) -> int:
        return self._count(Decision.PASS, Direction.IN)

    @property
    def left(self) -> int:
        return self._count(Decision.PASS, Direction.OUT)

    @property
    def refused(self) -> int:
        return self._count(Decision.REFUSE)

    @property
    def held(self) -> int:
        return self._count(Decision.HOLD)

    @property
    def attempts(self) -> int:
        return len(self._latest)

    def refusals_by_reason(self) -> list[tuple[str, int]]:
        """Each kind of reason given for a refusal or hold (its rule code, see `sync.core.refusals`), most
        frequent first."""
        counts = Counter(
            reason_kind(reason)
            for c in self._latest.values()
            if c.verdict != Decision.PASS.value
            for reason in c.reasons
        )
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


@dataclass(frozen=True)
class Handover:
    """What a keeper hands over at sign-out."""

    shift: Shift
    ended_at: datetime
    tally: ShiftTally

    def counts(self) -> list[tuple[str, str]]:
        """(label, value) pairs in reading order, in the keeper's language and the district's time."""
        tally = self.tally
        return [
            (_("operator"), f"{self.shift.operator.name} ({self.shift.operator.id})"),
            (_("shift start"), local(self.shift.started_at).strftime("%Y-%m-%d %H:%M")),
            (_("shift end"), local(self.ended_at).strftime("%Y-%m-%d %H:%M")),
            (_("attempts"), str(tally.attempts)),
            (_("let in"), str(tally.entered)),
            (_("left"), str(tally.left)),
            (_("refused"), str(tally.refused)),
            (_("held"), str(tally.held)),
        ]

    def refusals(self) -> list[tuple[str, int]]:
        """Refusals and holds by kind, each kind's label in the keeper's language, most frequent first."""
        return [(kind_label(kind), count) for kind, count in self.tally.refusals_by_reason()]

    def lines(self) -> list[tuple[str, str]]:
        """Counts, then refusals by reason, as (item, value) pairs: the CSV's rows."""
        reasons = [(_(REFUSED_OR_HELD).format(reason=kind), str(count)) for kind, count in self.refusals()]
        return self.counts() + reasons


def handover(db_path: Path, shift: Shift, ended_at: datetime) -> Handover:
    """The summary of a shift, read from the entry log (so it survives a restart of the kiosk)."""
    rows = read_entries(db_path, shift.started_at, ended_at + timedelta(milliseconds=1), operator=shift.operator.id)
    return Handover(shift, ended_at, ShiftTally().add_all(rows))


def day_window(day: date, tz: tzinfo | None) -> tuple[datetime, datetime]:
    """The day's bounds: midnight to the next midnight in `tz` (None: the laptop's zone), as aware times."""
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone()  # no zone: the laptop's
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone()
    return start, end


def day_tally(db_path: Path, day: date, tz: tzinfo | None) -> ShiftTally:
    """A day's entries at this gate, counted as the handover counts them: what `report --day` prints and what
    the gate reports to HQ for reconciliation (`kiosk.uplink.day_reports`), so the two cannot differ."""
    start, end = day_window(day, tz)
    return ShiftTally().add_all(read_entries(db_path, start, end))


def day_counts(db_path: Path, day: date, tz: tzinfo | None = None) -> list[tuple[str, int]]:
    """A day's counts at this gate (midnight to midnight in `tz`, by default the zone times are read in), in the
    handover's words and HQ's: attempts (an amendment replacing what it amends), let in, left, refused, held.
    What an official compares with HQ's numbers for the same gate and day."""
    tally = day_tally(db_path, day, tz if tz is not None else zone())
    return [
        (_("attempts"), tally.attempts),
        (_("let in"), tally.entered),
        (_("left"), tally.left),
        (_("refused"), tally.refused),
        (_("held"), tally.held),
    ]


def write_handover_csv(summary: Handover, path: Path) -> None:
    rows = ([safe_cell(label), safe_cell(value)] for label, value in summary.lines())
    write_csv(path, (_("item"), _("value")), rows)
