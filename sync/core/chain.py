"""The hash chain over a gate's entries: what makes an edited or deleted row visible.

Each entry stores the hash of the previous one and its own hash over every logged field, with a per-gate
sequence number that increases by one. The gate checks its own log with this module and HQ checks what it
received with the same function, so both sides agree on what "intact" means.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64
CHAINED_FIELDS = (
    "id",
    "seq",
    "ts",
    "gate",
    "direction",
    "subject",
    "name",
    "code_type",
    "colour",
    "verdict",
    "reasons",
    "temperature",
    "operator",
    "details",
    "prev_hash",
)


OPTIONAL_FIELDS = ("reason_codes",)
"""Chained when the entry has them: entries logged before a field existed hash as they always did, and an entry
that has one cannot lose it (or gain it) without its hash changing."""


def entry_hash(row: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of the chained fields (sorted keys, no spaces, UTF-8)."""
    chained = {field: row[field] for field in CHAINED_FIELDS}
    chained |= {field: row[field] for field in OPTIONAL_FIELDS if row.get(field) is not None}
    canonical = json.dumps(chained, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    kind: str
    """'gap' (rows missing), 'edited' (a row's content no longer matches its hash) or 'broken' (a row does
    not follow the one before it)."""
    detail: str


def verify_chain(rows: Iterable[Mapping[str, Any]], anchor_seq: int = 0, anchor_hash: str = GENESIS_HASH) -> list[ChainProblem]:
    """Check rows in sequence order, starting after the anchor (the last purged entry, or the genesis)."""
    problems: list[ChainProblem] = []
    expected_seq, expected_prev = anchor_seq + 1, anchor_hash
    for row in rows:
        seq = row["seq"]
        if seq != expected_seq:
            problems.append(ChainProblem(seq, "gap", f"entries {expected_seq}..{seq - 1} are missing"))
        elif row["prev_hash"] != expected_prev:
            problems.append(ChainProblem(seq, "broken", "does not follow the entry before it"))
        if entry_hash(row) != row["hash"]:
            problems.append(ChainProblem(seq, "edited", "content does not match its hash"))
        expected_seq, expected_prev = seq + 1, row["hash"]
    return problems
