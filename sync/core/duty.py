"""Proof of duty: what a gate records about its own state, and the hour-by-hour timeline HQ shows from it.

A gate records each change of state as a duty event: a keeper's shift began or ended, the camera (or scanner) was
lost or came back, the lists went stale or fresh again. Events are chained like entries (each holds the hash of the
one before and its own hash over every field, with a sequence number of its own), sent to HQ after the entries,
and stored there once by (gate, seq). From them HQ derives, per gate and hour, the share of the hour a keeper was
signed in, the camera worked and the lists were fresh; an hour short of the whole on any of them is a gap.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from sync.core.chain import GENESIS_HASH
from sync.core.protocol import PROTOCOL_VERSION, BatchId, EntryId, GateId, Hash

TIMELINE_DAYS = 14


class DutyKind(StrEnum):
    SHIFT_ON = "shift_on"
    SHIFT_OFF = "shift_off"
    CAMERA_LOST = "camera_lost"
    CAMERA_BACK = "camera_back"
    LISTS_STALE = "lists_stale"
    LISTS_FRESH = "lists_fresh"


ASPECTS: dict[str, tuple[DutyKind, DutyKind]] = {
    "keeper": (DutyKind.SHIFT_ON, DutyKind.SHIFT_OFF),
    "camera": (DutyKind.CAMERA_BACK, DutyKind.CAMERA_LOST),
    "lists": (DutyKind.LISTS_FRESH, DutyKind.LISTS_STALE),
}
"""Each aspect of duty, as (the event that makes it good, the event that makes it bad)."""
ASPECT_OF = {kind: aspect for aspect, pair in ASPECTS.items() for kind in pair}

CHAINED_DUTY_FIELDS = ("id", "seq", "ts", "gate", "kind", "detail", "prev_hash")


def duty_hash(row: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of the chained fields, as `sync.core.chain.entry_hash` does for entries."""
    chained = {name: row[name] for name in CHAINED_DUTY_FIELDS}
    canonical = json.dumps(chained, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def chain_breaks(rows: Iterable[Mapping[str, Any]], after_seq: int = 0, after_hash: str = GENESIS_HASH) -> list[str]:
    """What is wrong with a run of duty events following (after_seq, after_hash): gaps, edits, breaks."""
    problems = []
    expected_seq, expected_prev = after_seq + 1, after_hash
    for row in rows:
        if row["seq"] != expected_seq:
            problems.append(f"duty events {expected_seq}..{row['seq'] - 1} are missing")
        elif row["prev_hash"] != expected_prev:
            problems.append(f"duty event {row['seq']} does not follow the one before it")
        if duty_hash(row) != row["hash"]:
            problems.append(f"duty event {row['seq']}: content does not match its hash")
        expected_seq, expected_prev = row["seq"] + 1, row["hash"]
    return problems


class DutyEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: EntryId
    seq: Annotated[int, Field(ge=1, lt=2**62)]
    ts: Annotated[str, StringConstraints(min_length=10, max_length=40)]
    gate: GateId
    kind: DutyKind
    detail: Annotated[str, StringConstraints(max_length=500)]
    prev_hash: Hash
    hash: Hash


class DutyBatch(BaseModel):
    """POST /v1/gates/{gate}/duty: a run of the gate's duty events in sequence order."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    protocol: int = PROTOCOL_VERSION
    gate: GateId
    batch_id: BatchId
    events: Annotated[list[DutyEvent], Field(min_length=1, max_length=2000)]

    @model_validator(mode="after")
    def _ordered(self) -> DutyBatch:
        if any(b.seq <= a.seq for a, b in pairwise(self.events)):
            raise ValueError("duty events must be in strictly increasing seq order")
        return self


class DutyReceipt(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    gate: GateId
    through_seq: int
    stored: int
    problems: list[str] = []


@dataclass(frozen=True)
class DutyHour:
    """One hour at one gate: the share (0..1) of it each aspect of duty was good."""

    start: datetime
    keeper: float
    camera: float
    lists: float

    @property
    def gap(self) -> bool:
        return min(self.keeper, self.camera, self.lists) < 1.0


def duty_timeline(
    events: Sequence[tuple[datetime, DutyKind]], start: datetime, hours: int, before: Mapping[str, bool] | None = None
) -> list[DutyHour]:
    """The hours from `start` (on the hour), each with the share of it every aspect was good, from the gate's
    events in time order. `before` is each aspect's state at `start` (default: keeper off, camera and lists
    good, as a gate starts); an hour in the future of the last event carries the last state on."""
    state = {"keeper": False, "camera": True, "lists": True} | dict(before or {})
    hours_out: list[DutyHour] = []
    pending = sorted(events)
    index = 0
    for hour in range(hours):
        begin = start + timedelta(hours=hour)
        end = begin + timedelta(hours=1)
        good = {aspect: timedelta() for aspect in ASPECTS}
        moment = begin
        while index < len(pending) and pending[index][0] < end:
            at, kind = pending[index]
            at = max(at, begin)
            for aspect, on in state.items():
                if on:
                    good[aspect] += at - moment
            moment = at
            aspect = ASPECT_OF[kind]
            state[aspect] = kind == ASPECTS[aspect][0]
            index += 1
        for aspect, on in state.items():
            if on:
                good[aspect] += end - moment
        share = {aspect: good[aspect] / timedelta(hours=1) for aspect in ASPECTS}
        hours_out.append(DutyHour(begin, share["keeper"], share["camera"], share["lists"]))
    return hours_out
