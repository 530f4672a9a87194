"""The gate's SQLite file: the hash-chained entry log and the lists the gate judges by.

Durability first: WAL with synchronous=FULL, and `record()` returns only after COMMIT, so a verdict is never
shown for an entry that a crash could lose. One connection is shared by the gate's threads behind a lock
(SQLite serialises writers anyway; a re-entrant lock keeps that visible and avoids "database is locked"
retries).
Raw ID numbers never reach this file: subjects are keyed hashes, list rows also carry the ID's hash under the
gate's own key (`id_hash`, see `kiosk.id_keys`), and a typed number on no list is kept only sealed to HQ.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database, Migrations
from ulid import ULID

from sync.core.clock import utc_text
from sync.core.chain import GENESIS_HASH, ChainProblem, entry_hash, verify_chain
from sync.core.codes.base import Colour
from sync.core.policy import Direction, Knowledge, PassInfo, Passage, Verdict
from sync.core.policy.rules.household import WINDOW_HOURS as HOUSEHOLD_WINDOW_HOURS
from sync.core.readings import temperature_problem
from sync.core.wording import codes_json
from sync.core.i18n import _, ngettext

migrations = Migrations("pocket-gate")
LIST_NAMES = ("roster", "passes", "colour_list")
"""The lists HQ's bundle replaces whole."""


@migrations()
def m001_initial(db: Database) -> None:
    db["entries"].create(
        {
            "id": str,
            "seq": int,
            "ts": str,
            "gate": str,
            "direction": str,
            "subject": str,
            "name": str,
            "code_type": str,
            "colour": str,
            "verdict": str,
            "reasons": str,
            "temperature": float,
            "operator": str,
            "details": str,
            "prev_hash": str,
            "hash": str,
        },
        pk="id",
        not_null={"seq", "ts", "gate", "direction", "code_type", "verdict", "reasons", "details", "prev_hash", "hash"},
    )
    db["entries"].create_index(["seq"], unique=True)
    db["entries"].create_index(["ts"])
    db["entries"].create_index(["subject"])
    db["roster"].create({"subject": str, "name": str, "unit": str}, pk="subject")
    db["passes"].create(
        {"id": str, "subject": str, "kind": str, "valid_from": str, "valid_until": str, "note": str}, pk="id"
    )
    db["passes"].create_index(["subject"])
    db["colour_list"].create({"subject": str, "colour": str, "note": str}, pk="subject")
    db["trusted_keys"].create({"kid": str, "pem": str, "label": str}, pk="kid")
    db["meta"].create({"key": str, "value": str}, pk="key")


@migrations()
def m002_drop_trusted_keys(db: Database) -> None:
    """Trusted keys live in the trust store's `trust_documents` (kiosk/trust_store.py), filled by HQ's bundle
    and `pocket-kiosk trust import`; this first-draft table was never written."""
    db["trusted_keys"].drop(ignore=True)


def _keep_head(db: Database, seq: int, digest: str) -> None:
    """Record the newest entry ever written (see `GateStore._head`). Plain SQL: it runs with every entry, and
    sqlite-utils' upsert reads the table's schema first each time (0.6 ms of a 4 ms commit)."""
    db.execute(
        "INSERT INTO meta (key, value) VALUES ('head_seq', ?), ('head_hash', ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [str(seq), digest],
    )


@migrations()
def m003_chain_head(db: Database) -> None:
    """Remember the newest entry (see `GateStore._head`) for databases made before the head was kept."""
    last = db.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
    if last is not None:
        _keep_head(db, last[0], last[1])


@migrations()
def m004_reason_codes(db: Database) -> None:
    """Each entry's reasons as rule codes with parameters (`sync.core.wording`), beside the English sentences of
    `reasons`; NULL for entries logged before (their sentences are read back when shown)."""
    db["entries"].add_column("reason_codes", str)


@migrations()
def m005_id_hashes(db: Database) -> None:
    """Each list row's ID hash under the gate's own key (HQ's bundle fills it; see `kiosk.id_keys`)."""
    for table in LIST_NAMES:
        db[table].add_column("id_hash", str)
        db[table].create_index(["id_hash"])


@migrations()
def m006_roster_phone(db: Database) -> None:
    """The household's phone on each roster row (optional), for the keeper to call a visitor's host."""
    db["roster"].add_column("phone", str)


@migrations()
def m007_colour_until(db: Database) -> None:
    """When a red/yellow list row lapses by itself (an entry HQ put on the list from a trace; NULL: no end), and
    the colour in force after that (NULL: off the list)."""
    db["colour_list"].add_column("until", str)
    db["colour_list"].add_column("lapses_to", str)
    db["roster"].create_index(["unit"])


def _read_only_connection(path: Path) -> sqlite3.Connection:
    """A connection that never writes to the file or beside it. A WAL database whose shared-memory file is gone
    (the last writer closed cleanly) cannot be opened so on a read-only disk, where that file cannot be made
    again; with no write-ahead log left either, nothing but the file itself holds data, and SQLite may take it
    as immutable."""
    uri = path.resolve().as_uri()
    try:
        return _checked(sqlite3.connect(f"{uri}?mode=ro", uri=True, check_same_thread=False, timeout=10))
    except sqlite3.OperationalError:
        log = path.with_name(path.name + "-wal")
        if log.exists() and log.stat().st_size:
            raise
    return _checked(sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, check_same_thread=False, timeout=10))


def _checked(conn: sqlite3.Connection) -> sqlite3.Connection:
    """The connection once it has read the schema (a file that is no database fails here); closed if not."""
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error:
        conn.close()
        raise
    return conn


class StoreError(Exception):
    """The entry could not be made durable (disk full, read-only file, corrupt database)."""


def entries_phrase(count: int) -> str:
    """'1 entry', '0 entries', '5 entries': counts a keeper reads in a sentence."""
    return ngettext("{count} entry", "{count} entries", count).format(count=count)


@dataclass(frozen=True)
class EntryDraft:
    """Everything about an entry that the caller decides; id, sequence, time and hashes are the store's."""

    direction: Direction
    code_type: str
    """'PGC1', another code format, 'manual', 'visitor' or 'invalid'."""
    verdict: Verdict
    subject: str | None = None
    name: str = ""
    temperature: float | None = None
    operator: str = ""
    details: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """A temperature outside `sync.core.readings`' range never reaches the chain: NaN, the infinities and -0.0
        do not come back from SQLite as they were hashed, so the entry would look edited forever."""
        if problem := temperature_problem(self.temperature):
            raise ValueError(f"temperature: {problem}")


@dataclass(frozen=True)
class Purge:
    """What a purge did."""

    purged: int
    kept_unsent: int
    """Entries past retention kept because HQ has not acknowledged them yet (0 when the gate is not enrolled)."""
    retention_days: int

    def describe(self) -> str:
        """'purged 5 entries older than 28 days; kept 3 older ones HQ does not have yet'."""
        text = _("purged {entries} older than {days} days").format(
            entries=entries_phrase(self.purged), days=self.retention_days
        )
        if self.kept_unsent:
            text += _("; kept {count} older ones HQ does not have yet (they go at the next sync)").format(
                count=self.kept_unsent
            )
        return text


@dataclass(frozen=True)
class Entry:
    id: str
    seq: int
    ts: str
    verdict: str
    row: dict[str, Any]


class GateStore:
    """One gate's database file."""

    def __init__(self, path: Path, gate_id: str, *, read_only: bool = False) -> None:
        """`read_only` opens an existing file without writing anything to it (no migration, no journal mode
        change), as `verify`, `check` and the sync status do: it works on a read-only disk too."""
        self.path = path
        self.gate_id = gate_id
        self._lock = threading.RLock()
        try:
            if read_only:
                self.db = Database(_read_only_connection(path))
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), check_same_thread=False, timeout=10)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(_("cannot open the gate database {path}: {error}").format(path=path, error=exc)) from exc
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            self.db = Database(conn)
            migrations.apply(self.db)
        except sqlite3.Error as exc:
            conn.close()  # a file that cannot be written (a read-only disk) is not kept open
            raise StoreError(_("cannot open the gate database {path}: {error}").format(path=path, error=exc)) from exc

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def __enter__(self) -> GateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """Several changes as one, all or nothing (an HQ bundle replaces every list at once), under the store's
        lock; also for modules that keep their own tables (with their own migration set) in the gate's file.

        The outermost one takes SQLite's write lock at the start (BEGIN IMMEDIATE), so another connection to
        the file (the sync service has its own) waits its turn rather than failing half way; one opened inside
        another, or inside sqlite-utils' `atomic()`, is a savepoint that rolls back alone."""
        with self._lock:
            conn = self.db.conn
            if conn.in_transaction:
                with self.db.atomic():
                    yield self.db
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    @contextmanager
    def reading(self) -> Iterator[Database]:
        """The database under the store's lock, for reads that must not interleave with another thread's
        transaction on the shared connection. No transaction is opened: reading never blocks other writers."""
        with self._lock:
            yield self.db

    # -- entries -----------------------------------------------------------------------------------------

    def _head(self) -> tuple[int, str] | None:
        """The newest entry ever recorded (seq, hash), kept in `meta` in the same transaction as the entry.

        The chain alone shows an edited or removed row only when a later row still follows it; the head is
        what shows that the newest rows were removed. New entries follow the head, never the last row left,
        so a sequence number is never given twice. (Someone able to rewrite the file can rewrite this too:
        HQ, which holds what it was sent, is the final check.)"""
        seq, digest = self.get_meta("head_seq"), self.get_meta("head_hash")
        return (int(seq), digest) if seq is not None and digest is not None else None

    def _anchor(self) -> tuple[int, str]:
        """What the next entry follows: the head, else (files written without it) the last row, else the
        last purged entry, else the genesis."""
        head = self._head()
        if head is not None:
            return head
        row = self.db.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        if row is not None:
            return row[0], row[1]
        return int(self.get_meta("anchor_seq") or 0), self.get_meta("anchor_hash") or GENESIS_HASH

    def record(self, draft: EntryDraft, now: datetime | None = None) -> Entry:
        """Append an entry to the chain and COMMIT it before returning."""
        moment = now or datetime.now(UTC)
        try:
            with self.transaction():
                last_seq, last_hash = self._anchor()
                row: dict[str, Any] = {
                    "id": str(ULID.from_datetime(moment)),
                    "seq": last_seq + 1,
                    "ts": utc_text(moment),
                    "gate": self.gate_id,
                    "direction": draft.direction.value,
                    "subject": draft.subject,
                    "name": draft.name,
                    "code_type": draft.code_type,
                    "colour": draft.verdict.colour.value if draft.verdict.colour else None,
                    "verdict": draft.verdict.decision.value,
                    "reasons": json.dumps(list(draft.verdict.reasons), ensure_ascii=False),
                    "reason_codes": codes_json(draft.verdict.reasons),
                    "temperature": round(draft.temperature, 1) if draft.temperature is not None else None,
                    "operator": draft.operator,
                    "details": json.dumps(draft.details, sort_keys=True, ensure_ascii=False),
                    "prev_hash": last_hash,
                }
                row["hash"] = entry_hash(row)
                self.db["entries"].insert(row)
                _keep_head(self.db, row["seq"], row["hash"])
        except sqlite3.Error as exc:
            raise StoreError(_("entry NOT logged: {error}").format(error=exc)) from exc
        return Entry(id=row["id"], seq=row["seq"], ts=row["ts"], verdict=row["verdict"], row=row)

    def entries(self, *, after_seq: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Entries in sequence order after `after_seq` (the sync cursor uses this)."""
        with self._lock:
            return list(
                self.db["entries"].rows_where("seq > ?", [after_seq], order_by="seq", limit=limit)
            )

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.db["entries"].rows_where(order_by="seq desc", limit=limit))

    def count_entries(self) -> int:
        with self._lock:
            return self.db["entries"].count

    def verify(self) -> list[ChainProblem]:
        """Check the whole chain from the last purge anchor up to the head (the newest entry recorded). Raises
        StoreError when the file is too damaged for its entries to be read."""
        with self._lock:
            try:
                anchor_seq = int(self.get_meta("anchor_seq") or 0)
                anchor_hash = self.get_meta("anchor_hash") or GENESIS_HASH
                problems = verify_chain(self._iter_rows(), anchor_seq, anchor_hash)
                head = self._head()
                last = self.db.execute("SELECT max(seq) FROM entries").fetchone()[0] or anchor_seq
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"the gate database {self.path} is damaged ({exc}); its entries cannot be read") from exc
            if head is not None and last < head[0]:
                missing = f"entry {head[0]} is" if last + 1 == head[0] else f"entries {last + 1}..{head[0]} are"
                problems.append(ChainProblem(head[0], "gap", f"the newest {missing} missing"))
            return problems

    def file_problems(self) -> list[str]:
        """SQLite's own check of the file (every page, row and index readable and consistent): what it found,
        or nothing. A damaged index or free page can leave every entry readable, so `verify` alone misses it."""
        with self._lock:
            try:
                found = [row[0] for row in self.db.execute("PRAGMA quick_check").fetchall()]
            except sqlite3.DatabaseError as exc:
                return [str(exc)]
        return [] if found == ["ok"] else found

    def _iter_rows(self) -> Iterator[dict[str, Any]]:
        yield from self.db["entries"].rows_where(order_by="seq")

    def continue_chain(self, seq: int, digest: str) -> bool:
        """Start an empty log after entry `seq` (hash `digest`) of a chain HQ holds: a new laptop for a gate whose
        old one was lost goes on where HQ's copy ends, so its entries are not taken for a rewritten history.
        Does nothing (False) to a log that holds or held entries."""
        with self.transaction():
            if self._head() is not None or self.get_meta("anchor_seq") is not None or self.count_entries():
                return False
            self.set_meta({"anchor_seq": str(seq), "anchor_hash": digest})
        return True

    def purge(self, retention_days: int, now: datetime | None = None, *, keep_after_seq: int | None = None) -> Purge:
        """Delete entries older than the retention period; remember the last one deleted as the chain anchor.

        With `keep_after_seq` (an enrolled gate's upload cursor), entries after it are kept however old they
        are: HQ does not have them yet, and the gate's copy is the only one. Deletion stays a prefix of the
        chain, so what is left still verifies from the anchor."""
        cutoff = utc_text((now or datetime.now(UTC)) - timedelta(days=retention_days))
        limit = "" if keep_after_seq is None else " AND seq <= ?"
        with self.transaction():
            last = self.db.execute(
                f"SELECT seq, hash FROM entries WHERE ts < ?{limit} ORDER BY seq DESC LIMIT 1",
                [cutoff] if keep_after_seq is None else [cutoff, keep_after_seq],
            ).fetchone()
            deleted = 0
            if last is not None:
                deleted = self.db.execute("DELETE FROM entries WHERE seq <= ?", [last[0]]).rowcount
                self.set_meta({"anchor_seq": str(last[0]), "anchor_hash": last[1]})
            kept = self.db.execute("SELECT count(*) FROM entries WHERE ts < ?", [cutoff]).fetchone()[0]
        return Purge(purged=deleted, kept_unsent=kept, retention_days=retention_days)

    # -- lists -------------------------------------------------------------------------------------------

    def knowledge(self, subject: str | None, now: datetime, *, ignoring: str | None = None) -> Knowledge:
        """What the roster, passes and red/yellow list say about a subject, and its last passage through the
        gate (its newest entry that passed, other than `ignoring`: the entry a retaken temperature amends)."""
        if subject is None:
            return Knowledge()
        with self._lock:
            unit = self.db.execute("SELECT unit FROM roster WHERE subject = ?", [subject]).fetchone()
            resident = unit is not None
            outings = self.db.execute(
                "SELECT entries.ts FROM entries JOIN roster ON roster.subject = entries.subject"
                " WHERE roster.unit = ? AND entries.direction = 'out' AND entries.verdict = 'pass' AND entries.ts > ?"
                " ORDER BY entries.ts DESC LIMIT 1000",
                [unit[0], utc_text(now - timedelta(hours=HOUSEHOLD_WINDOW_HOURS))],
            ).fetchall() if unit and unit[0] else []
            now_text = utc_text(now)
            row = self.db.execute(
                "SELECT kind, valid_until FROM passes WHERE subject = ? AND valid_from <= ? AND valid_until > ?"
                " ORDER BY valid_until DESC LIMIT 1",
                [subject, now_text, now_text],
            ).fetchone()
            listed = self.db.execute(
                "SELECT CASE WHEN until IS NULL OR until > ? THEN colour ELSE lapses_to END FROM colour_list"
                " WHERE subject = ?",
                [now_text, subject],
            ).fetchone()
            passed = self.db.execute(
                "SELECT direction, ts FROM entries WHERE subject = ? AND verdict = 'pass' AND id IS NOT ?"
                " ORDER BY seq DESC LIMIT 1",
                [subject, ignoring],
            ).fetchone()
        return Knowledge(
            resident=resident,
            hq_pass=PassInfo(kind=row[0], valid_until=datetime.fromisoformat(row[1])) if row else None,
            listed_colour=Colour(listed[0]) if listed and listed[0] else None,
            last_passage=Passage(Direction(passed[0]), datetime.fromisoformat(passed[1])) if passed else None,
            household=unit[0] if unit and unit[0] else None,
            household_outings=tuple(datetime.fromisoformat(ts) for (ts,) in outings),
        )

    def household_phone(self, unit: str) -> str | None:
        """The phone the roster gives for a household (`unit`, as typed: spaces around it ignored), for the keeper
        to call a visitor's host; None when no roster row of that unit has one."""
        with self._lock:
            row = self.db.execute(
                "SELECT phone FROM roster WHERE unit = ? AND phone IS NOT NULL AND phone != '' ORDER BY subject LIMIT 1",
                [" ".join(unit.split())],
            ).fetchone()
        return row[0] if row else None

    def residents_out(self) -> list[dict[str, Any]]:
        """Residents (roster) whose last passage through the gate was out: household (`unit`), masked name and
        since when (`ts`), by household then time. Residents never seen passing are taken to be inside."""
        with self._lock:
            cursor = self.db.execute(
                "WITH last AS (SELECT subject, direction, ts, MAX(seq) FROM entries"
                " WHERE verdict = 'pass' AND subject IS NOT NULL GROUP BY subject)"
                " SELECT roster.unit, roster.name, last.ts FROM last JOIN roster ON roster.subject = last.subject"
                " WHERE last.direction = 'out' ORDER BY roster.unit, last.ts"
            )
            return [{"unit": unit, "name": name, "ts": ts} for unit, name, ts in cursor.fetchall()]

    def subject_by_id_hash(self, id_hash: str) -> str | None:
        """The district subject of the list row a typed number's gate-keyed hash finds, or None."""
        with self._lock:
            row = self.db.execute(
                " UNION ALL ".join(f"SELECT subject FROM [{t}] WHERE id_hash = ?" for t in LIST_NAMES) + " LIMIT 1",
                [id_hash] * len(LIST_NAMES),
            ).fetchone()
        return row[0] if row else None

    def replace_table(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """Swap a whole list (roster, passes, colour_list) in one transaction: a gate never
        judges by half a list."""
        if table not in LIST_NAMES:
            raise ValueError(f"not a list table: {table}")
        with self.transaction():
            self.db.execute(f"DELETE FROM [{table}]")
            if rows:
                self.db[table].insert_all(rows)

    def rows(self, table: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.db[table].rows)

    # -- meta --------------------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_meta(self, values: dict[str, str]) -> None:
        with self.transaction():
            self.db["meta"].upsert_all([{"key": k, "value": v} for k, v in values.items()], pk="key")
