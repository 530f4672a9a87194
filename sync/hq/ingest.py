"""Ingesting a gate's upload: idempotent by entry id, judged entry by entry, chain-checked, and answered with what
HQ now holds.

One transaction per batch, holding the gate's row lock (PostgreSQL `FOR UPDATE`; SQLite's single writer), so
two copies of one batch racing each other (a client that timed out and retried) cannot both insert:
1. A batch id seen before with the same entries gets the recorded answer back (`replayed`); with different
   entries (any field of any entry) it is refused (409), since an idempotency key must never mean two things.
2. Each entry is judged on its own: one that is not a `WireEntry` (a malformed field, text that is not
   Unicode, a time not in the gate's form) or whose sequence number is implausibly far ahead of the chain
   (`MAX_SEQ_AHEAD`) is refused, named in the receipt's `refusals` with its reason and recorded as an alert;
   the rest of the batch is stored. Every text HQ takes is stored as sent, on both databases (`db.GateText`).
3. Entries HQ holds already and identically (every chained field, compared with HQ's copy) are duplicates; a
   held id with other content (edited at the gate after it was sent, even under its original hash), or a held
   sequence number with another id (a gate database restored from a backup), is refused and recorded as an
   alert: an edited history is never taken in silently.
4. New entries are checked with `sync.core.chain.verify_chain`, the gate's own function, from where HQ last
   followed the chain; gaps, edits and breaks become alerts. They are stored all the same (they are evidence).
5. New entries behind that point fill a gap HQ recorded earlier (a gate re-sending rows it really had, or
   someone with the gate's token inventing them). Each is checked against its own hash and against the
   neighbours HQ holds or is given in the same batch: its prev_hash must be the hash of seq-1 (the genesis for
   seq 1), and the prev_hash of seq+1 must be its hash. A genuine filler passes both and closes the gap
   without a new alert (the gap's own alert stays: it happened). A mismatch is an `edited` or `broken` alert,
   reported as a break found while following the chain is, at the later entry of the link that does not hold.
   A filler whose seq-1 HQ lacks is a `gap` alert naming what is still missing: so gaps are found even behind
   a chain position someone pushed far ahead with the gate's token. A mismatching filler is stored and
   flagged, as a break past the chain head is: it takes no entry's place (its seq was free), and what someone
   tried to slip in is evidence.
6. Entries are inserted with ON CONFLICT DO NOTHING, so even a path this module did not foresee cannot double
   an entry. The same transaction adds them to the hourly statistics the dashboard reads (`stats`).
7. An entry that amends an earlier one of the same gate (`details.amends`: the gate re-judged a person, e.g. with a
   temperature typed after the verdict) supersedes it: the earlier entry is kept, marked `superseded_by`, and
   taken out of the statistics in the same transaction, so a person re-judged is one passage everywhere HQ
   counts or traces, as at the gate (`kiosk.shift`).
8. A new entry with no subject whose details carry a `sealed_id` (an ID number typed at the gate and on none of
   its lists, sealed to HQ: `sync.core.sealing`) is filed under the district subject of that number, opened
   with HQ's key (`sync.hq.district`), so tracing finds the person; `unsealed_entries` records that the gate
   sent none, and a copy sent again is compared as sent. A seal HQ cannot open (no district key, or damaged)
   leaves the entry without a subject and raises an `unresolved` alert.
9. A new entry letting someone in who was let in at another gate shortly before or after, without leaving in
   between, raises a `two_gates` alert (`sync.hq.two_gates`): one code on two phones.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Connection, Row, func, insert, select, update

from sync.core.chain import CHAINED_FIELDS, GENESIS_HASH, OPTIONAL_FIELDS, entry_hash, verify_chain
from sync.core.clock import utc_text
from sync.hq import stats
from sync.core.sealing import SealError
from sync.hq.db import HqDatabase
from sync.hq.district import DistrictSecrets
from sync.hq.two_gates import two_gate_alerts
from sync.hq.tables import alerts, dialect_insert, entries, gates, unsealed_entries, upload_batches
from sync.core.protocol import (
    GATE_ID_PATTERN,
    RECEIPT_ALERT_KINDS,
    SUPPORTED_PROTOCOLS,
    Alert,
    AlertKind,
    EntryId,
    IncomingBatch,
    Refusal,
    UploadBatch,
    UploadReceipt,
    WireEntry,
)

MAX_SEQ_AHEAD = 1_000_000
"""How far past the chain HQ has followed a gate's next entry may plausibly be. A gate uploads in sequence
order, so its next entry is normally the one after HQ's chain head; a jump means entries HQ never got (deleted,
or purged before enrolment). A million is ten weeks of the busiest gate the design plans for (100,000 entries a
week); a sequence number further ahead is refused, so it cannot carry the chain head off with it."""

_ENTRY_ID: TypeAdapter[str] = TypeAdapter(EntryId)


class BatchConflict(Exception):
    """The batch id was used before for different entries (HTTP 409)."""


class UploadRefused(Exception):
    """An upload body refused whole before anything is stored: not a batch (422), a protocol HQ does not speak
    (422), or entries of another gate (403). `status` is the HTTP status the network upload answers with."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


def readable(exc: ValidationError, what: str = "batch") -> str:
    error = exc.errors()[0]
    where = ".".join(map(str, error["loc"])) or "body"
    more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
    return f"malformed {what}: {where}: {error['msg']}{more}"


def read_upload(body: bytes, gate_id: str) -> UploadBatch | IncomingBatch:
    """An upload body as HQ takes it from gate `gate_id`, by network or on a stick (`sync.hq.stick_import`): the
    usual batch, every entry as a gate writes it, in one step; else the entries one by one (`ingest` judges each).
    Raises UploadRefused."""
    try:
        batch: UploadBatch | IncomingBatch = UploadBatch.model_validate_json(body, strict=True)
    except ValidationError:
        try:
            batch = IncomingBatch.model_validate(json.loads(body))
        except (ValueError, RecursionError) as exc:  # not JSON (nor UTF-8, nor shallow enough), or not a batch
            detail = readable(exc) if isinstance(exc, ValidationError) else f"malformed batch: not JSON: {exc}"
            raise UploadRefused(422, detail) from exc
    if batch.protocol not in SUPPORTED_PROTOCOLS:
        raise UploadRefused(422, f"protocol {batch.protocol} is not spoken here; HQ speaks {sorted(SUPPORTED_PROTOCOLS)}")
    # Entries naming another gate are refused whole; one naming no gate id at all is refused alone, in ingest.
    named = (
        {e.gate for e in batch.entries}
        if isinstance(batch, UploadBatch)
        else {e["gate"] for e in batch.entries if isinstance(e.get("gate"), str) and re.fullmatch(GATE_ID_PATTERN, e["gate"])}
    )
    strangers = sorted((named | {batch.gate}) - {gate_id})
    if strangers:
        raise UploadRefused(403, f"gate {gate_id} can only upload its own entries, not those of {', '.join(strangers)}")
    return batch


_ENTRIES: TypeAdapter[list[WireEntry]] = TypeAdapter(list[WireEntry])


def batch_digest(batch: IncomingBatch | UploadBatch) -> str:
    """What makes two batches 'the same': every entry, whole, in order. (A body is read the same way each time
    it comes, as an `UploadBatch` when every entry is one, so a batch sent again gets the same digest.)"""
    if isinstance(batch, UploadBatch):
        return hashlib.sha256(_ENTRIES.dump_json(batch.entries)).hexdigest()
    return hashlib.sha256(json.dumps(batch.entries, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _legacy_digest(batch: IncomingBatch | UploadBatch) -> str:
    """The digest HQ recorded before it compared whole entries (ids, sequence numbers and hashes), so a batch
    whose answer was lost just before an upgrade is still answered from its record."""
    if isinstance(batch, UploadBatch):
        keys = [(e.id, e.seq, e.hash) for e in batch.entries]
    else:
        keys = [(e.get("id"), e["seq"], e.get("hash")) for e in batch.entries]
    return hashlib.sha256("\n".join(f"{i}:{seq}:{h}" for i, seq, h in keys).encode()).hexdigest()


def ingest(
    db: HqDatabase,
    gate_id: str,
    batch: IncomingBatch | UploadBatch,
    now: datetime | None = None,
    secrets: DistrictSecrets | None = None,
) -> UploadReceipt:
    """Store a batch already checked to be this gate's (see the API layer) and return HQ's answer. An
    `UploadBatch` is one whose every entry is a `WireEntry` already (the usual case, read in one step); an
    `IncomingBatch` has its entries judged one by one. `secrets` open the ID numbers gates sealed to HQ."""
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
            if recorded.digest not in (digest, _legacy_digest(batch)):
                raise BatchConflict(f"batch id {batch.batch_id} was already used for other entries")
            conn.execute(update(gates).where(gates.c.gate_id == gate_id).values(last_seen_at=moment))
            return UploadReceipt.model_validate_json(recorded.receipt).model_copy(update={"replayed": True})
        receipt = _store(conn, gate_id, batch, chain.chain_seq, chain.chain_hash, moment, secrets)
        conn.execute(
            insert(upload_batches).values(
                gate=gate_id, batch_id=batch.batch_id, digest=digest, receipt=receipt.model_dump_json(), received_at=moment
            )
        )
    return receipt


@dataclass
class _Findings:
    alerts: list[Alert]
    refusals: list[Refusal]

    def refuse(self, seq: int, entry_id: str, kind: AlertKind, reason: str, detail: str) -> None:
        self.refusals.append(Refusal(seq=seq, id=entry_id, kind=kind, reason=reason))
        self.alerts.append(Alert(kind=kind, seq=seq, detail=detail))


def _store(
    conn: Connection,
    gate_id: str,
    batch: IncomingBatch | UploadBatch,
    chain_seq: int,
    chain_hash: str,
    moment: str,
    secrets: DistrictSecrets | None,
) -> UploadReceipt:
    found = _Findings([], [])
    valid = [entry for raw in batch.entries if (entry := _judge(raw, chain_seq, found)) is not None]
    held_ids = _held_by_id(conn, [e.id for e in valid])
    unsealed_held = _unsealed_of(conn, [i for i, row in held_ids.items() if row.subject is not None])
    near = {s for e in valid for s in (e.seq - 1, e.seq, e.seq + 1)}
    held_seqs = _held_by_seq(conn, gate_id, near)
    fresh: list[WireEntry] = []
    duplicates = 0
    for entry in valid:
        held = held_ids.get(entry.id)
        if held is not None:
            differs = _differences(held, entry, held.id in unsealed_held)
            if held.gate == gate_id and not differs:
                duplicates += 1
            else:
                where = f"for gate {held.gate}" if held.gate != gate_id else f"with other {', '.join(differs)}"
                found.refuse(
                    entry.seq, entry.id, AlertKind.EDITED,
                    f"HQ holds entry {entry.id} {where}: this copy was changed after it was first sent; HQ keeps "
                    "the copy it holds",
                    f"entry {entry.id} re-sent with content that differs from the copy HQ holds ({', '.join(differs)}); "
                    "the new version was not stored" if held.gate == gate_id else
                    f"entry {entry.id} is held for gate {held.gate}; this copy was not stored",
                )
        elif entry.seq in held_seqs:
            other = held_seqs[entry.seq].id
            found.refuse(
                entry.seq, entry.id, AlertKind.REWRITTEN,
                f"HQ already holds entry {other} as #{entry.seq}: this entry reuses its sequence number (was the "
                "gate's database put back from a backup?)",
                f"sequence {entry.seq} is held as entry {other}; a different entry {entry.id} claims it and was not stored",
            )
        else:
            fresh.append(entry)
    found.alerts.extend(_filler_problems(conn, gate_id, [e for e in fresh if e.seq <= chain_seq], held_seqs, fresh))
    ahead = [e for e in fresh if e.seq > chain_seq]
    for problem in verify_chain((e.model_dump() for e in ahead), chain_seq, chain_hash):
        found.alerts.append(Alert(kind=AlertKind(problem.kind), seq=problem.seq, detail=problem.detail))
    if fresh:
        rows = [e.model_dump() | {"received_at": moment} for e in fresh]
        unsealed = _unseal(rows, secrets, found)
        conn.execute(dialect_insert(conn, entries).on_conflict_do_nothing(), rows)
        if unsealed:
            conn.execute(dialect_insert(conn, unsealed_entries).on_conflict_do_nothing(), unsealed)
        stats.record(conn, rows)
        _supersede(conn, gate_id, fresh)
        found.alerts.extend(two_gate_alerts(conn, gate_id, rows))
    if found.alerts:
        conn.execute(
            insert(alerts),
            [
                {"gate": gate_id, "seq": a.seq, "kind": a.kind.value, "detail": a.detail, "created_at": moment}
                for a in found.alerts
            ],
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
        refused=len(found.refusals),
        through_seq=batch.entries[-1].seq if isinstance(batch, UploadBatch) else batch.entries[-1]["seq"],
        chain_seq=chain_seq,
        alerts=[a for a in found.alerts if a.kind in RECEIPT_ALERT_KINDS],
        refusals=found.refusals,
    )


def amended_id(details: str) -> str | None:
    """The id of the entry an entry amends (its `details.amends`), or None. Details are the gate's text: anything
    but a JSON map holding an entry id there amends nothing."""
    try:
        found = json.loads(details)
    except ValueError:
        return None
    amends = found.get("amends") if isinstance(found, dict) else None
    return _shown_id(amends) or None if isinstance(amends, str) else None


def _supersede(conn: Connection, gate_id: str, fresh: list[WireEntry]) -> None:
    """Mark the entries that `fresh` ones amend as superseded (rule 7), and stop counting them."""
    by_amended = {amended: e.id for e in fresh if (amended := amended_id(e.details))}
    if not by_amended:
        return
    still_counted = conn.execute(
        select(entries).where(
            entries.c.id.in_(list(by_amended)), entries.c.gate == gate_id, entries.c.superseded_by.is_(None)
        )
    ).all()
    for row in still_counted:
        conn.execute(update(entries).where(entries.c.id == row.id).values(superseded_by=by_amended[row.id]))
    stats.record(conn, [dict(row._mapping) for row in still_counted], sign=-1)


def _unseal(rows: list[dict[str, Any]], secrets: DistrictSecrets | None, found: _Findings) -> list[dict[str, str]]:
    """File each row that came with a sealed ID number and no subject under that number's district subject (rule 8
    above); the rows to record in `unsealed_entries`."""
    unsealed = []
    for row in rows:
        if row["subject"] is not None or '"sealed_id"' not in row["details"]:
            continue
        try:
            sealed = json.loads(row["details"]).get("sealed_id")
        except (ValueError, AttributeError):
            continue
        if not isinstance(sealed, str):
            continue
        problem = "HQ has no district key to open it (start HQ with --district-key)"
        if secrets is not None:
            try:
                row["subject"] = secrets.open_seal(sealed)
                unsealed.append({"id": row["id"], "ts": row["ts"]})
                continue
            except SealError as exc:
                problem = str(exc)
        found.alerts.append(Alert(kind=AlertKind.UNRESOLVED, seq=row["seq"], detail=f"entry {row['id']}: the ID "
                                  f"number the gate sealed to HQ was not resolved: {problem}; it is kept without a subject"))
    return unsealed


def _judge(raw: dict[str, Any] | WireEntry, chain_seq: int, found: _Findings) -> WireEntry | None:
    """The entry if HQ can take it as sent; else None, with its refusal added to `found`."""
    if isinstance(raw, WireEntry):
        entry = raw
    else:
        entry = _valid(raw, found)
        if entry is None:
            return None
    if entry.seq > chain_seq + MAX_SEQ_AHEAD:
        reason = (f"sequence number {entry.seq} is implausibly far ahead of #{chain_seq}, the last entry HQ "
                  f"followed for this gate (more than {MAX_SEQ_AHEAD:,} ahead)")
        found.refuse(entry.seq, entry.id, AlertKind.REFUSED, reason, f"entry {entry.id} refused: {reason}")
        return None
    return entry


def _valid(raw: dict[str, Any], found: _Findings) -> WireEntry | None:
    """The entry if it is a `WireEntry`; else None, with its refusal added to `found`."""
    seq: int = raw["seq"]
    entry_id = raw.get("id") if isinstance(raw.get("id"), str) else ""
    try:
        return WireEntry.model_validate(raw, strict=True)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(map(str, error["loc"])) or "entry"
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        reason = f"{where}: {error['msg']}{more}"
        found.refuse(seq, _shown_id(entry_id), AlertKind.REFUSED, f"HQ cannot take this entry as sent: {reason}",
                     f"entry {_shown_id(entry_id) or '(no valid id)'} refused: {reason}")
        return None


def _shown_id(entry_id: str) -> str:
    """An entry id fit to quote in a reason: only when it is one (anything else sent there is hostile text)."""
    try:
        return _ENTRY_ID.validate_python(entry_id)
    except ValidationError:
        return ""


def _held_by_id(conn: Connection, ids: list[str]) -> dict[str, Row[Any]]:
    if not ids:
        return {}
    query = select(entries).where(entries.c.id.in_(ids))
    return {row.id: row for row in conn.execute(query)}


def _held_by_seq(conn: Connection, gate_id: str, seqs: set[int]) -> dict[int, Row[Any]]:
    if not seqs:
        return {}
    low, high = min(seqs), max(seqs)
    # A run of entries (the usual batch) is one range; numbers spread wide are looked up one by one.
    where = entries.c.seq.between(low, high) if high - low < 2 * len(seqs) else entries.c.seq.in_(sorted(seqs))
    query = select(entries.c.seq, entries.c.id, entries.c.prev_hash, entries.c.hash).where(
        entries.c.gate == gate_id, where
    )
    return {row.seq: row for row in conn.execute(query) if row.seq in seqs}


def _unsealed_of(conn: Connection, ids: list[str]) -> set[str]:
    """Which of these held entries HQ filed under a subject the gate did not send (rule 8 above)."""
    if not ids:
        return set()
    return set(conn.execute(select(unsealed_entries.c.id).where(unsealed_entries.c.id.in_(ids))).scalars())


def _differences(held: Row[Any], entry: WireEntry, unsealed: bool) -> list[str]:
    """The chained fields (and the hash) in which an entry differs from HQ's copy of it (as the gate sent it:
    with no subject when HQ filled it in from a sealed ID number)."""
    sent = entry.model_dump()
    as_sent = {"subject": None} if unsealed else {}
    return [
        name
        for name in (*CHAINED_FIELDS, *OPTIONAL_FIELDS, "hash")
        if as_sent.get(name, getattr(held, name)) != sent[name]
    ]


def _filler_problems(
    conn: Connection, gate_id: str, fillers: list[WireEntry], held: dict[int, Row[Any]], fresh: list[WireEntry]
) -> list[Alert]:
    """Check entries that fill a gap behind the chain head against their neighbours (rule 5 above): those HQ
    holds (`held`, by seq) and the other new entries of the batch. A link is checked when both ends are known;
    a filler whose seq-1 is not known is a gap still open below it."""
    if not fillers:
        return []
    links: dict[int, tuple[str, str]] = {0: (GENESIS_HASH, GENESIS_HASH)}
    links |= {seq: (row.prev_hash, row.hash) for seq, row in held.items()}
    links |= {e.seq: (e.prev_hash, e.hash) for e in fresh}
    late = {e.seq for e in fillers}
    problems: list[Alert] = []
    for entry in fillers:
        before = links.get(entry.seq - 1)
        if before is None:
            below = conn.execute(
                select(func.max(entries.c.seq)).where(entries.c.gate == gate_id, entries.c.seq < entry.seq)
            ).scalar_one()
            known = max([below or 0, *(e.seq for e in fresh if e.seq < entry.seq)])
            missing = f"entry {known + 1} is" if known + 1 == entry.seq - 1 else f"entries {known + 1}..{entry.seq - 1} are"
            problems.append(Alert(kind=AlertKind.GAP, seq=entry.seq, detail=f"arrived late for seq {entry.seq}, but "
                                  f"{missing} still missing before it"))
        elif entry.prev_hash != before[1]:
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
