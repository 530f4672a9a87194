"""The gate's sync state, kept in the gate's own SQLite file under its own migration set ("pocket-gate-sync").

- `upload_cursor`: the highest sequence number HQ has answered for. Entries after it are the upload queue
  (each entry's place in that queue is its `seq`, written in the same transaction as the entry itself), and
  the cursor only moves forward, in one transaction, after HQ's 2xx answer.
- `sync_refused`: the entries HQ answered for but did not take, with HQ's reason, written in that same
  transaction. They are not delivered: they count as waiting, the status is an error naming them, the purge
  keeps them, and what HQ holds for certain (`SyncRecord.held_through`) stops before the first of them. The
  queue goes on past them, so one refused entry never holds back the gate's later ones; `retry_refused` puts
  them back in the queue once the cause is dealt with, and `dismiss_refused` records that the district has
  them another way (the operator's export): they are then past like any delivered entry, retention included.
- The bundle in force: its version, when HQ issued it, when this gate applied it, and when HQ last confirmed it
  is current (a new bundle, or HQ's "not modified"): the age of the lists that the kiosk's settings screen
  judges against the policy's `freshness` limits.
- The last attempt, the last success and the last error, so any process (the kiosk UI, `sync --once`) can
  show the same status without talking to HQ.
- `days_reported_through`: the last day whose own counts HQ took for daily reconciliation
  (`kiosk.uplink.day_reports`); the days after it are reported once they are over and uploaded whole.
- Every trust document of the last bundle, including types this version does not apply, so a later gate
  version can use a new kind of trust material without a new protocol. The kinds it knows (PGC1 issuer keys,
  and any trust file: EU DCC certificates, SMART Health Card JWKS) go to `kiosk.trust_store` with origin
  "hq", where the gate's trust list reads them and their freshness is tracked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlite_utils import Database, Migrations

from sync.core.codes.pgc_trust import read_issuer_key
from sync.core.codes.trust import TrustError
from kiosk import id_keys
from kiosk.incidents import keep_procedure
from kiosk.keeper_locale import ZONE_META
from kiosk.rules_in_force import HQ_POLICY_META, hq_policy_text, keep_hq_policy
from sync.core.policy import PolicyError
from kiosk.store import GateStore
from sync.core.clock import utc_text
from sync.core.i18n import N_, _
from kiosk.trust_store import confirm_documents, replace_documents
from sync.core.bundle import BundleError
from sync.core.protocol import GATE_TRUST_TYPES, ISSUER_PUBLIC_KEY, BundleContent, TrustDocument
from sync.core.sealing import SealError

migrations = Migrations("pocket-gate-sync")
HQ_ORIGIN = "hq"
"""Origin of HQ's documents in `kiosk.trust_store` (a keeper's imports are "file" and are left alone)."""


@migrations()
def m001_sync_state(db: Database) -> None:
    db["sync_state"].create(
        {
            "id": int,
            "upload_cursor": int,
            "bundle_version": int,
            "bundle_issued_at": str,
            "bundle_applied_at": str,
            "last_attempt_at": str,
            "last_success_at": str,
            "last_error": str,
            "last_outcome": str,
            "hq_alerts": int,
        },
        pk="id",
        not_null={"upload_cursor", "bundle_version", "hq_alerts"},
        defaults={"upload_cursor": 0, "bundle_version": 0, "hq_alerts": 0},
    )
    db["sync_state"].insert({"id": 1})
    db["sync_trust_documents"].create(
        {"type": str, "id": str, "label": str, "content": str, "encoding": str},
        pk=("type", "id"),
        not_null={"content", "encoding"},
    )


@migrations()
def m002_bundle_checked_at(db: Database) -> None:
    db["sync_state"].add_column("bundle_checked_at", str)
    db.execute("UPDATE sync_state SET bundle_checked_at = bundle_applied_at")


@migrations()
def m003_refused_entries(db: Database) -> None:
    db["sync_refused"].create(
        {"seq": int, "id": str, "kind": str, "reason": str, "refused_at": str, "dismissed_at": str},
        pk="seq",
        not_null={"id", "kind", "reason", "refused_at"},
    )


@migrations()
def m004_days_reported(db: Database) -> None:
    db["sync_state"].add_column("days_reported_through", str)


@dataclass(frozen=True)
class RefusedEntry:
    """An entry HQ answered for without taking it, and why (HQ's words)."""

    seq: int
    id: str
    ts: str | None
    """When it was logged (None if the entry is no longer in the log)."""
    kind: str
    """HQ's alert kind: 'rewritten', 'edited' or 'refused'."""
    reason: str
    refused_at: datetime


def refusal_summary(refused: Sequence[RefusedEntry]) -> str | None:
    """What the keeper and the operator read: 'HQ refused 10 entries (#91..#100): HQ already holds entry ... as
    #91: ...; they are kept here: `pocket-kiosk sync --refused` lists them'. None when HQ refused nothing."""
    if not refused:
        return None
    first, last = refused[0], refused[-1]
    which = (
        _("entry #{seq}").format(seq=first.seq)
        if len(refused) == 1
        else _("{count} entries (#{first}..#{last})").format(count=len(refused), first=first.seq, last=last.seq)
    )
    others = len({r.reason for r in refused}) - 1
    more = _(" (and {others} other reasons)").format(others=others) if others > 0 else ""
    return _(
        "HQ refused {which}: {reason}{more}; kept here: `pocket-kiosk sync --refused` lists them "
        "(see the README for what to do)"
    ).format(which=which, reason=first.reason, more=more)


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True)
class SyncRecord:
    """The sync state as stored (no network involved in reading it)."""

    upload_cursor: int
    bundle_version: int
    bundle_issued_at: datetime | None
    bundle_applied_at: datetime | None
    bundle_checked_at: datetime | None
    """When HQ last confirmed the bundle in force is current (applied it, or answered "not modified")."""
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_outcome: str | None
    """How the last attempt ended, as the client's `Connection` value ('online', 'offline', 'error')."""
    hq_alerts: int
    """Alerts HQ reported about this gate's history (gaps, edits) since enrolment."""
    entries_waiting: int
    """Entries HQ does not hold: those logged after the cursor, and those HQ refused."""
    refused: int = 0
    """Entries HQ answered for without taking them (`sync_refused`), still in the log."""
    first_refused: int | None = None

    @property
    def held_through(self) -> int:
        """The sequence number up to which HQ holds every entry (the cursor, or just before the first entry HQ
        refused): what the gate may purge, and what it tells the keeper HQ has."""
        return self.upload_cursor if self.first_refused is None else min(self.upload_cursor, self.first_refused - 1)


class SyncState:
    """Reads and writes the sync tables of one gate database (through its GateStore's connection)."""

    def __init__(self, store: GateStore, *, migrate: bool = True) -> None:
        """`migrate=False` reads a database as it is (opened read-only): nothing is written."""
        self.store = store
        if migrate:
            with store.transaction() as db:
                migrations.apply(db)

    def record(self) -> SyncRecord:
        """The stored state and the number of entries waiting, read together (one statement, so another
        connection's commit cannot fall between them)."""
        with self.store.reading() as db:
            row = db.execute(
                "SELECT upload_cursor, bundle_version, bundle_issued_at, bundle_applied_at, bundle_checked_at,"
                " last_attempt_at, last_success_at, last_error, last_outcome, hq_alerts,"
                " (SELECT count(*) FROM entries WHERE seq > sync_state.upload_cursor),"
                " (SELECT count(*) FROM sync_refused JOIN entries USING (seq, id)"
                "   WHERE sync_refused.seq <= sync_state.upload_cursor AND dismissed_at IS NULL),"
                " (SELECT min(seq) FROM sync_refused JOIN entries USING (seq, id) WHERE dismissed_at IS NULL)"
                " FROM sync_state WHERE id = 1"
            ).fetchone()
        return SyncRecord(
            upload_cursor=row[0],
            bundle_version=row[1],
            bundle_issued_at=_time(row[2]),
            bundle_applied_at=_time(row[3]),
            bundle_checked_at=_time(row[4]),
            last_attempt_at=_time(row[5]),
            last_success_at=_time(row[6]),
            last_error=row[7],
            last_outcome=row[8],
            hq_alerts=row[9],
            entries_waiting=row[10] + row[11],
            refused=row[11],
            first_refused=row[12],
        )

    def entries_waiting(self) -> int:
        """Entries not yet acknowledged by HQ."""
        return self.record().entries_waiting

    def advance_cursor(
        self,
        through_seq: int,
        alerts: int = 0,
        refused: Sequence[tuple[int, str, str, str]] = (),
        now: datetime | None = None,
    ) -> None:
        """HQ answered for everything up to `through_seq`: move the checkpoint (never backwards), and keep the
        entries it refused, as (seq, id, kind, reason), in the same transaction."""
        moment = utc_text(now or datetime.now(UTC))
        with self.store.transaction() as db:
            db.execute(
                "UPDATE sync_state SET upload_cursor = max(upload_cursor, ?), hq_alerts = hq_alerts + ? WHERE id = 1",
                [through_seq, alerts],
            )
            db.conn.executemany(
                "INSERT INTO sync_refused (seq, id, kind, reason, refused_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (seq) DO UPDATE SET id = excluded.id, kind = excluded.kind, reason = excluded.reason,"
                " refused_at = excluded.refused_at, dismissed_at = NULL",
                [(seq, entry_id, kind, reason[:2000], moment) for seq, entry_id, kind, reason in refused],
            )

    def refused_entries(self) -> list[RefusedEntry]:
        """The entries HQ refused that are still in the log and not dismissed, oldest first."""
        with self.store.reading() as db:
            rows = db.execute(
                "SELECT r.seq, r.id, e.ts, r.kind, r.reason, r.refused_at FROM sync_refused r"
                " JOIN entries e USING (seq, id) WHERE r.dismissed_at IS NULL ORDER BY r.seq"
            ).fetchall()
        return [RefusedEntry(r[0], r[1], r[2], r[3], r[4], datetime.fromisoformat(r[5])) for r in rows]

    def dismiss_refused(self, now: datetime | None = None) -> int:
        """The district has the refused entries another way (the operator sent it `sync --refused --json`): stop
        reporting them; they are past the cursor like delivered entries, and retention applies to them again.
        The record of the refusal stays. Returns how many were dismissed."""
        with self.store.transaction() as db:
            return int(
                db.execute(
                    "UPDATE sync_refused SET dismissed_at = ? WHERE dismissed_at IS NULL",
                    [utc_text(now or datetime.now(UTC))],
                ).rowcount
            )

    def retry_refused(self) -> int:
        """Put the entries HQ refused back in the upload queue (after the cause was dealt with at HQ or here):
        the cursor goes back to just before the first of them, so they and everything after go again (HQ
        counts what it already holds as duplicates). Returns how many were refused."""
        with self.store.transaction() as db:
            count, first = db.execute("SELECT count(*), min(seq) FROM sync_refused WHERE dismissed_at IS NULL").fetchone()
            if first is not None:
                db.execute("UPDATE sync_state SET upload_cursor = min(upload_cursor, ?) WHERE id = 1", [first - 1])
            db.execute("DELETE FROM sync_refused WHERE dismissed_at IS NULL")
        return int(count)

    def days_reported_through(self) -> date | None:
        """The last day whose counts HQ took (`kiosk.uplink.day_reports`); None before the first report."""
        with self.store.reading() as db:
            text = db.execute("SELECT days_reported_through FROM sync_state WHERE id = 1").fetchone()[0]
        return date.fromisoformat(text) if text else None

    def note_days_reported(self, through: date) -> None:
        """HQ took the counts of the days up to `through` (never moves back)."""
        with self.store.transaction() as db:
            db.execute(
                "UPDATE sync_state SET days_reported_through = ? WHERE id = 1"
                " AND (days_reported_through IS NULL OR days_reported_through < ?)",
                [through.isoformat(), through.isoformat()],
            )

    def note_attempt(self, now: datetime, outcome: str, error: str | None) -> None:
        """Record how the last sync ended: a success clears the error; a failure keeps the last success."""
        moment = utc_text(now)
        with self.store.transaction() as db:
            if error is None:
                db.execute(
                    "UPDATE sync_state SET last_attempt_at = ?, last_success_at = ?, last_error = NULL,"
                    " last_outcome = ? WHERE id = 1",
                    [moment, moment, outcome],
                )
            else:
                db.execute(
                    "UPDATE sync_state SET last_attempt_at = ?, last_error = ?, last_outcome = ? WHERE id = 1",
                    [moment, error[:2000], outcome],
                )

    def apply_bundle(self, content: BundleContent, now: datetime) -> BundleChange | None:
        """Replace roster, passes, red/yellow list, trusted keys, policy, the gate's own key and HQ's sealing key
        with the bundle's, in one transaction, and say which of them changed.

        Returns None (changing nothing) when the gate already has this version. Raises BundleError, changing
        nothing, when the bundle is for another gate, older than the one in force, or carries a policy or key
        this gate cannot use: the previous lists stay in force."""
        if content.gate != self.store.gate_id:
            raise BundleError(
                _("bundle is for gate {gate!r}, not this gate ({own!r})").format(gate=content.gate, own=self.store.gate_id)
            )
        try:
            policy_text = hq_policy_text(content.policy)
        except PolicyError as exc:
            raise BundleError(
                _("HQ's policy cannot be used by this gate ({error}); the lists in force stay").format(error=exc)
            ) from exc
        trust_files = _trust_files(content.trust)
        with self.store.transaction() as db:
            current = db.execute("SELECT bundle_version FROM sync_state WHERE id = 1").fetchone()[0]
            if content.version == current:
                return None
            if content.version < current:
                raise BundleError(
                    _("bundle version {version} is older than the one in force ({current})").format(
                        version=content.version, current=current
                    )
                )
            before = _contents(db, self.store)
            self.store.replace_table("roster", [row.model_dump() for row in content.roster])
            self.store.replace_table("passes", [row.model_dump() for row in content.passes])
            self.store.replace_table("colour_list", [row.model_dump() for row in content.colour_list])
            try:
                replace_documents(self.store, trust_files, origin=HQ_ORIGIN, now=now)
            except TrustError as exc:
                raise BundleError(f"trust: {exc}") from exc
            db.execute("DELETE FROM sync_trust_documents")
            if content.trust:
                db["sync_trust_documents"].insert_all(doc.model_dump() for doc in content.trust)
            keep_hq_policy(self.store, policy_text)
            keep_procedure(self.store, content.procedure)
            if content.timezone:
                self.store.set_meta({ZONE_META: content.timezone})
            else:
                db.execute("DELETE FROM meta WHERE key = ?", [ZONE_META])
            try:
                id_keys.keep(self.store, content.gate_key, content.seal_key)
            except SealError as exc:
                raise BundleError(_("HQ's sealing key cannot be used: {error}").format(error=exc)) from exc
            db.execute(
                "UPDATE sync_state SET bundle_version = ?, bundle_issued_at = ?, bundle_applied_at = ?,"
                " bundle_checked_at = ? WHERE id = 1",
                [content.version, utc_text(content.issued_at), utc_text(now), utc_text(now)],
            )
            after = _contents(db, self.store)
        changed = tuple(part for part in BUNDLE_PARTS if before[part] != after[part])
        return BundleChange(content.version, now, changed)

    def confirm_bundle(self, now: datetime) -> None:
        """HQ confirmed the bundle in force is current: its lists and trust documents are fresh as of `now`."""
        with self.store.transaction() as db:
            db.execute("UPDATE sync_state SET bundle_checked_at = ? WHERE id = 1", [utc_text(now)])
            confirm_documents(self.store, origin=HQ_ORIGIN, now=now)

    def trust_documents(self, doc_type: str) -> list[TrustDocument]:
        """Trust documents of one type from the bundle in force (for formats that bring their own trust)."""
        with self.store.reading() as db:
            rows = db.execute(
                "SELECT type, id, label, content, encoding FROM sync_trust_documents WHERE type = ? ORDER BY id",
                [doc_type],
            ).fetchall()
        return [TrustDocument(type=r[0], id=r[1], label=r[2] or "", content=r[3], encoding=r[4]) for r in rows]


BUNDLE_PARTS = (N_("red/yellow list"), N_("roster"), N_("passes"), N_("trusted keys"), N_("policy"))
"""What a bundle holds, in the keeper's words (said with `_()`)."""


@dataclass(frozen=True)
class BundleChange:
    """A new bundle put in force: its version, when, and which of `BUNDLE_PARTS` changed with it."""

    version: int
    applied_at: datetime
    parts: tuple[str, ...]


def _contents(db: Database, store: GateStore) -> dict[str, object]:
    """Each part of the bundle in force, comparable (sorted rows), to tell what a new bundle changed."""
    def table(name: str, order: str) -> list[tuple[object, ...]]:
        return [tuple(row) for row in db.execute(f"SELECT * FROM [{name}] ORDER BY {order}").fetchall()]

    return {
        "red/yellow list": table("colour_list", "subject"),
        "roster": table("roster", "subject"),
        "passes": table("passes", "id"),
        "trusted keys": table("sync_trust_documents", "type, id"),
        "policy": store.get_meta(HQ_POLICY_META),
    }


def _trust_files(documents: Sequence[TrustDocument]) -> dict[str, bytes]:
    """The documents this gate applies, by the name they are stored under in the trust store ('hq/<id>', so a
    keeper's own `trust import` of a file with the same name never clashes). An issuer key must be the key
    its id says."""
    files: dict[str, bytes] = {}
    for doc in documents:
        if doc.type not in GATE_TRUST_TYPES:
            continue
        try:
            data = doc.data()
        except ValueError as exc:
            raise BundleError(_("trust document {id}: content is not base64").format(id=doc.id)) from exc
        if doc.type == ISSUER_PUBLIC_KEY:
            try:
                trusted = read_issuer_key(data, label=doc.id)
            except TrustError as exc:
                raise BundleError(f"trusted key {doc.id}: {exc}") from exc
            if trusted.kid.hex() != doc.id:
                raise BundleError(_("trusted key {id} is really key {kid}").format(id=doc.id, kid=trusted.kid.hex()))
        files[f"hq/{doc.id}"] = data
    return files
