"""A shift's counters and its handover summary, computed from entry rows so the screen and the log agree.

A temperature taken right after a scan is logged as a new entry that amends the first (the chain is append
only); for counting, the amending entry replaces the one it amends, so a person is counted once with their
final verdict.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kiosk.csvcell import safe_cell
from kiosk.export import details_of, read_entries, reasons_of, write_csv
from kiosk.operators import Shift
from kiosk.policy import Decision, Direction


REASON_PREFIX = "refused or held: "


def reason_kind(reason: str) -> str:
    """A reason without its particulars, so refusals can be counted by kind: 'code has expired: valid until
    ...' -> 'code has expired', 'temperature 37.9 °C (limit ...)' -> 'temperature too high'."""
    if reason.startswith("temperature ") and "limit" in reason:
        return "temperature too high"
    if reason.startswith("negative test is "):
        return "negative test too old"
    return reason.split(": ", 1)[0].split(" (", 1)[0]


@dataclass(frozen=True)
class _Counted:
    direction: str
    verdict: str
    reasons: tuple[str, ...]


@dataclass
class ShiftTally:
    """Running counts for a shift: people let in, let out, refused and held, and refusals by reason."""

    _latest: dict[str, _Counted] = field(default_factory=dict)

    def add(self, row: Mapping[str, Any]) -> None:
        """Count one entry row (as the store returns it); an amending row replaces the row it amends."""
        amends = details_of(row).get("amends")
        if amends:
            self._latest.pop(amends, None)
        self._latest[row["id"]] = _Counted(row["direction"], row["verdict"], tuple(reasons_of(row)))

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
    def people(self) -> int:
        return len(self._latest)

    def refusals_by_reason(self) -> list[tuple[str, int]]:
        """Each kind of reason given for a refusal or hold, most frequent first."""
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

    def lines(self) -> list[tuple[str, str]]:
        """(label, value) pairs in reading order, for the screen and the CSV."""
        tally = self.tally
        pairs = [
            ("operator", f"{self.shift.operator.name} ({self.shift.operator.id})"),
            ("shift start", self.shift.started_at.astimezone().strftime("%Y-%m-%d %H:%M")),
            ("shift end", self.ended_at.astimezone().strftime("%Y-%m-%d %H:%M")),
            ("people checked", str(tally.people)),
            ("let in", str(tally.entered)),
            ("let out", str(tally.left)),
            ("refused", str(tally.refused)),
            ("held", str(tally.held)),
        ]
        pairs += [(f"{REASON_PREFIX}{reason}", str(count)) for reason, count in tally.refusals_by_reason()]
        return pairs


def handover(db_path: Path, shift: Shift, ended_at: datetime) -> Handover:
    """The summary of a shift, read from the entry log (so it survives a restart of the kiosk)."""
    rows = read_entries(db_path, shift.started_at, ended_at + timedelta(milliseconds=1), operator=shift.operator.id)
    return Handover(shift, ended_at, ShiftTally().add_all(rows))


def write_handover_csv(summary: Handover, path: Path) -> None:
    write_csv(path, ("item", "value"), ([safe_cell(label), safe_cell(value)] for label, value in summary.lines()))
