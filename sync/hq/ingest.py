"""Ingesting a gate's upload: idempotent by entry id, chain-checked, and answered with what HQ now holds.

One transaction per batch, holding the gate's row lock (PostgreSQL `FOR UPDATE`; SQLite's single writer), so
two copies of one batch racing each other (a client that timed out and retried) cannot both insert:
1. A batch id seen before with the same entries gets the recorded answer back (`replayed`); with different
   entries it is refused (409), since an idempotency key must never mean two things.
2. Entries HQ holds already and identically are duplicates; a held id with other content, or a held sequence
   number with another id, is refused and recorded as an alert: an edited history is never taken in silently.
3. New entries are checked with `kiosk.chain.verify_chain`, the gate's own function, from where HQ last
   followed the chain; gaps, edits and breaks become alerts. They are stored all the same (they are evidence).
4. New entries behind that point fill a gap HQ recorded earlier (a gate re-sending rows it really had, or
   someone with the gate's token inventing them). Each is checked against its own hash and against the
   neighbours HQ holds or is given in the same batch: its prev_hash must be the hash of seq-1 (the genesis for
   seq 1), and the prev_hash of seq+1 must be its hash. A genuine filler passes both and closes the gap
   without a new alert (the gap's own alert stays: it happened). A mismatch is an `edited` or `broken` alert,
   reported as a break found while following the chain is, at the later entry of the link that does not hold.
   A mismatching filler is stored and flagged, as a break past the chain head is: it takes no entry's place
   (its seq was free), and what someone tried to slip in is evidence.
5. Entries are inserted with ON CONFLICT DO NOTHING, so even a path this module did not foresee cannot double
   an entry. The same transaction adds them to the hourly statistics the dashboard reads (`stats`).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from kiosk.chain import GENESIS_HASH, entry_hash, verify_chain
from kiosk.store import utc_text
from sync.hq import stats
from sync.hq.db import HqDatabase, alerts, dialect_insert, entries, gates, upload_batches
from sync.protocol import Alert, AlertKind, UploadBatch, UploadReceipt, WireEntry


class BatchConflict(Exception):
    """The batch id was used before for different entries (HTTP 409)."""


def batch_digest(batch: UploadBatch) -> str:
    """What makes two batches 'the same': their entries' ids, sequence numbers and hashes, in order."""
    text = "\n".join(f"{e.id}:{e.seq}:{e.hash}" for e in batch.entries)
    return hashlib.sha256(text.encode()).hexdigest()


def ingest(db: HqDatabase, gate_id: str, batch: UploadBatch, now: datetime | None = None) -> UploadReceipt:
    """Store a batch already checked to be this gate's (see the API layer) and return HQ's answer."""
    moment = utc_text(now or datetime.now(UTC))
    digest = batch_digest(batch)
    with db.begin() as conn:
        chain = conn.execute(
            select(gates.c.chain_seq, gates.c.chain_hash).where(gates.c.gate_id == gate_id).with_for_update()
        ).one()
        recorded = conn.execute(
            select(upload_batches.c.digest, upload_batches.c.receipt).where(
                upload_batches.c.gate == gate_id, upload_batches.c.batch_id == batch.batch_id
            )
        ).first()
        if recorded is not None:
            if recorded.digest != digest:
                raise BatchConflict(f"batch id {batch.batch_id} was already used for other entries")
            conn.execute(update(gates).where(gates.c.gate_id == gate_id).values(last_seen_at=moment))
            return UploadReceipt.model_validate_json(recorded.receipt).model_copy(update={"replayed": True})
        receipt = _store(conn, gate_id, batch, chain.chain_seq, chain.chain_hash, moment)
        conn.execute(
            insert(upload_batches).values(
                gate=gate_id, batch_id=batch.batch_id, digest=digest, receipt=receipt.model_dump_json(), received_at=moment
            )
        )
    return receipt


def _store(
    conn: Connection, gate_id: str, batch: UploadBatch, chain_seq: int, chain_hash: str, moment: str
) -> UploadReceipt:
    first, last = batch.entries[0].seq, batch.entries[-1].seq
    held_ids = {
        row.id: row
        for row in conn.execute(
            select(entries.c.id, entries.c.gate, entries.c.seq, entries.c.hash).where(
                entries.c.id.in_([e.id for e in batch.entries])
            )
        )
    }
    held_seqs = {
        row.seq: row
        for row in conn.execute(
            select(entries.c.seq, entries.c.id, entries.c.prev_hash, entries.c.hash).where(
                entries.c.gate == gate_id, entries.c.seq.between(first - 1, last + 1)
            )
        )
    }
    found: list[Alert] = []
    fresh: list[WireEntry] = []
    duplicates = 0
    for entry in batch.entries:
        held = held_ids.get(entry.id)
        if held is not None:
            if (held.gate, held.seq, held.hash) == (gate_id, entry.seq, entry.hash):
                duplicates += 1
            else:
                found.append(
                    Alert(kind=AlertKind.EDITED, seq=entry.seq, detail=f"entry {entry.id} re-sent with content "
                          "that differs from the copy HQ holds; the new version was not stored")
                )
        elif entry.seq in held_seqs:
            found.append(
                Alert(kind=AlertKind.REWRITTEN, seq=entry.seq, detail=f"sequence {entry.seq} is held as entry "
                      f"{held_seqs[entry.seq].id}; a different entry {entry.id} claims it and was not stored")
            )
        else:
            fresh.append(entry)
    found.extend(_filler_problems([e for e in fresh if e.seq <= chain_seq], held_seqs, fresh))
    ahead = [e for e in fresh if e.seq > chain_seq]
    for problem in verify_chain((e.model_dump() for e in ahead), chain_seq, chain_hash):
        found.append(Alert(kind=AlertKind(problem.kind), seq=problem.seq, detail=problem.detail))
    if fresh:
        rows = [e.model_dump() | {"received_at": moment} for e in fresh]
        conn.execute(dialect_insert(conn, entries).on_conflict_do_nothing(), rows)
        stats.record(conn, rows)
    if found:
        conn.execute(
            insert(alerts),
            [{"gate": gate_id, "seq": a.seq, "kind": a.kind.value, "detail": a.detail, "created_at": moment} for a in found],
        )
    values: dict[str, object] = {"last_seen_at": moment, "last_upload_at": moment}
    if ahead:
        chain_seq, chain_hash = ahead[-1].seq, ahead[-1].hash
        values |= {"chain_seq": chain_seq, "chain_hash": chain_hash}
    conn.execute(update(gates).where(gates.c.gate_id == gate_id).values(**values))
    return UploadReceipt(
        gate=gate_id,
        batch_id=batch.batch_id,
        received=len(batch.entries),
        stored=len(fresh),
        duplicates=duplicates,
        refused=len(batch.entries) - len(fresh) - duplicates,
        through_seq=last,
        chain_seq=chain_seq,
        alerts=found,
    )


def _filler_problems(fillers: list[WireEntry], held: dict[int, Row[Any]], fresh: list[WireEntry]) -> list[Alert]:
    """Check entries that fill a gap behind the chain head against their neighbours (rule 4 above): those HQ
    holds (`held`, by seq) and the other new entries of the batch. A link is checked when both ends are known."""
    if not fillers:
        return []
    links: dict[int, tuple[str, str]] = {0: (GENESIS_HASH, GENESIS_HASH)}
    links |= {seq: (row.prev_hash, row.hash) for seq, row in held.items()}
    links |= {e.seq: (e.prev_hash, e.hash) for e in fresh}
    late = {e.seq for e in fillers}
    problems: list[Alert] = []
    for entry in fillers:
        before = links.get(entry.seq - 1)
        if before is not None and entry.prev_hash != before[1]:
            problems.append(Alert(kind=AlertKind.BROKEN, seq=entry.seq, detail=f"arrived late to fill a gap and "
                                  f"does not follow entry {entry.seq - 1}"))
        if entry_hash(entry.model_dump()) != entry.hash:
            problems.append(Alert(kind=AlertKind.EDITED, seq=entry.seq, detail="arrived late to fill a gap and its "
                                  "content does not match its hash"))
        after = links.get(entry.seq + 1)
        if after is not None and entry.seq + 1 not in late and after[0] != entry.hash:
            problems.append(Alert(kind=AlertKind.BROKEN, seq=entry.seq + 1, detail=f"does not follow entry "
                                  f"{entry.id}, which arrived late for seq {entry.seq}: that is not the entry "
                                  "that stood there"))
    return problems
