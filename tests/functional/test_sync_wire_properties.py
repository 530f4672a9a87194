"""Property-based tests of HQ's upload API (issue 14): whatever a gate's token sends in a well-formed batch, HQ
either stores each entry exactly as sent or refuses it alone, with a reason and an alert, and the gate's next
entry still arrives. On SQLite and PostgreSQL, through a live HQ on 127.0.0.1 (one per backend for the module,
a new gate for every example).

Generated: any Unicode in every text field (NUL, the escape HQ uses for it on PostgreSQL, bidi and control
characters, lone surrogates, text longer than a field takes), times in and out of the gate's form, extreme
numbers (temperatures from NaN to 1e308, sequence numbers up to 2**63 and beyond), and batches cut from the
gate's chain that overlap, repeat, come in any order and carry edited or rewritten copies of entries.
"""

from __future__ import annotations

import itertools
from datetime import UTC
import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from tests.sync_testkit import RunningHq, shared_hq, signing_key_file  # noqa: F401

from sync.core.chain import GENESIS_HASH, entry_hash
from sync.hq.tables import alerts, entries
from sync.hq.gates import add_gate
from sync.core.protocol import WireEntry

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FIELDS = tuple(WireEntry.model_fields)
_gates = itertools.count(1)

SPECIAL = ["\x00", "\ue000", "\ue0000", "\ue0001", "\u202e", "\x1b[31m", "\x07", "\ufeff", "\U0001f600", "\\", '"', "'"]
texts = st.one_of(
    st.text(max_size=24),
    st.lists(st.sampled_from(SPECIAL) | st.text(max_size=3), max_size=6).map("".join),
    st.text(st.characters(categories=["Cs"]), min_size=1, max_size=2),  # lone surrogates: not Unicode text
)
long_texts = texts | st.text(st.sampled_from("ab\x00\ue000"), min_size=490, max_size=520)
times = st.one_of(
    st.datetimes(timezones=st.just(UTC)).map(lambda t: t.isoformat(timespec="milliseconds")),
    st.sampled_from(["2024-05-01T08:00:00.000Z", "2024-05-01 08:00", "2024-05-01T08:00:00.000+08:00", "x" * 12]),
    texts,
)
temperatures = st.one_of(
    st.none(),
    st.floats(min_value=30, max_value=45).map(lambda t: round(t, 1)),
    st.sampled_from([0.0, -0.0, 1e308, -1e308, 5e-324, float("nan"), float("inf"), float("-inf"), 36]),
    st.floats(),
)
ulids = st.text("0123456789ABCDEFGHJKMNPQRSTVWXYZ", min_size=26, max_size=26)


@st.composite
def gate_rows(draw: st.DrawFn, gate: str) -> list[dict[str, Any]]:
    """A gate's chain of 1-8 entries, each with generated content, hashed as the gate hashes (where the content
    can be hashed at all)."""
    rows: list[dict[str, Any]] = []
    prev = GENESIS_HASH
    for seq in range(1, draw(st.integers(1, 8)) + 1):
        row = {
            "id": draw(ulids | texts),
            "seq": seq,
            "ts": draw(times),
            "gate": gate,
            "direction": draw(st.sampled_from(["in", "out"])),
            "subject": draw(st.none() | st.just("ab" * 16) | texts),
            "name": draw(long_texts),
            "code_type": draw(st.just("PGC1") | texts),
            "colour": draw(st.sampled_from([None, "green", "yellow", "red"])),
            "verdict": draw(st.sampled_from(["pass", "hold", "refuse"])),
            "reasons": draw(st.just('["green code"]') | texts),
            "temperature": draw(temperatures),
            "operator": draw(texts),
            "details": draw(st.just("{}") | texts),
            "prev_hash": prev,
        }
        row["hash"] = _hash(row)
        prev = row["hash"]
        rows.append(row)
    return rows


def _hash(row: dict[str, Any]) -> str:
    try:
        return entry_hash(row)
    except (UnicodeEncodeError, ValueError):
        return "f" * 64


@st.composite
def uploads(draw: st.DrawFn, gate: str) -> list[list[dict[str, Any]]]:
    """Batches cut from one chain: overlapping runs in any order, some sent twice, some with an entry edited
    (same id, other content) or rewritten (same seq, another id), some ending with an extreme seq."""
    chain = draw(gate_rows(gate))
    batches = []
    for _ in range(draw(st.integers(1, 5))):
        chosen = sorted(draw(st.sets(st.integers(0, len(chain) - 1), min_size=1)))
        batch = [dict(chain[i]) for i in chosen]
        change = draw(st.sampled_from(["none", "edited", "rewritten", "far"]))
        if change == "edited":
            batch[0]["verdict"] = "refuse" if batch[0]["verdict"] != "refuse" else "pass"
        elif change == "rewritten":
            batch[0]["id"] = draw(ulids)
            batch[0]["hash"] = _hash(batch[0])
        elif change == "far":
            far = dict(batch[-1], id=draw(ulids), seq=draw(st.sampled_from([2**62 - 1, 2**62, 2**63 - 1, 10**30])))
            batch.append(far)
        batches.append(batch)
    repeats = draw(st.lists(st.sampled_from(batches), max_size=2))
    return draw(st.permutations(batches + repeats))


def _post(hq: RunningHq, token: str, gate: str, batch_id: str, batch: list[dict[str, Any]]) -> httpx.Response:
    body = json.dumps({"protocol": 1, "gate": gate, "batch_id": batch_id, "entries": batch})  # NaN as JSON5 does
    return httpx.post(
        f"{hq.url}/v1/gates/{gate}/entries",
        content=body.encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=30,
    )


def _distinct(batch: list[dict[str, Any]]) -> bool:
    """A well-formed batch: no id twice (the generator may draw one id for two entries)."""
    ids = [e["id"] for e in batch]
    return len(set(ids)) == len(ids)


@PROPERTY
@given(data=st.data())
def test_every_entry_is_stored_as_sent_or_refused_alone_and_later_entries_arrive(
    shared_hq: RunningHq, data: st.DataObject
) -> None:
    number = next(_gates)
    gate = f"prop-{number}"
    token = add_gate(shared_hq.db, gate)
    for sent_number, batch in enumerate(data.draw(uploads(gate))):
        if not _distinct(batch):
            continue
        answer = _post(shared_hq, token, gate, f"b{sent_number}", batch)
        if batch[-1]["seq"] >= 2**63:  # no gate's database holds such a number: not a batch
            assert answer.status_code == 422 and "64-bit" in answer.json()["detail"]
            continue
        assert answer.status_code == 200, answer.text
        receipt = answer.json()
        assert receipt["stored"] + receipt["duplicates"] + receipt["refused"] == receipt["received"] == len(batch)
        refused = {r["seq"]: r for r in receipt["refusals"]}
        assert len(refused) == receipt["refused"]
        with shared_hq.db.read() as conn:
            held = {r.id: r._mapping for r in conn.execute(select(entries).where(entries.c.gate == gate))}
            flagged = set(conn.execute(select(alerts.c.seq).where(alerts.c.gate == gate)).scalars())
        for sent in batch:
            if sent["seq"] in refused:
                assert refused[sent["seq"]]["reason"] and sent["seq"] in flagged
            else:
                wire = json.loads(json.dumps(sent))  # as HQ reads it: a surrogate pair in JSON is one character
                stored = held[wire["id"]]
                assert {f: stored[f] for f in FIELDS} == {f: wire.get(f) for f in FIELDS}

    chain_seq = httpx.get(f"{shared_hq.url}/v1/gate", headers={"Authorization": f"Bearer {token}"}).json()["chain_seq"]
    later = {
        "id": f"7ZZZ{number:022d}",  # an id of this gate's own (ids are unique across gates)
        "seq": chain_seq + 1,
        "ts": "2026-01-01T08:00:00.000+00:00",
        "gate": gate,
        "direction": "in",
        "subject": None,
        "name": "",
        "code_type": "PGC1",
        "colour": "green",
        "verdict": "pass",
        "reasons": "[]",
        "temperature": 36.6,
        "operator": "keeper",
        "details": "{}",
        "prev_hash": GENESIS_HASH,
    }
    later["hash"] = entry_hash(later)
    arrived = _post(shared_hq, token, gate, "later", [later]).json()
    assert (arrived["stored"], arrived["refused"]) == (1, 0), arrived
