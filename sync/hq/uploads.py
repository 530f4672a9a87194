"""List CSVs uploaded through the dashboard or loaded with `pocket-hq roster load` / `colour-list load`: checked
into a staging area, previewed, then applied whole.

A file uploaded through the dashboard is kept in the database as it was sent (`store_part`, a megabyte a row)
and checked by a background job (`check_stored`, queued by `queue_check`; a million-row file takes a minute or
two), so that any HQ process of a city can check it, and another starts the check over when the one checking it
stops (`sync.hq.jobs`); the file is removed when its check ends. The command line checks a file in the
foreground and applies it at once. An upload goes through `check`: its rows are counted first, so that a
file over the row limit (`max_list_rows`) is refused in seconds with nothing staged; then it is read as a
stream by `sync.core.roster_csv.iter_roster` or `lists.iter_colour_list`, its rows are written to a staging table in
batches while the upload's row count shows progress, and the differences from the list in force are counted.
Any bad line refuses the file and drops what was staged. An admin then sees the preview (what is added, changed
and removed, page by page) and applies it: one transaction replaces the list with the staged rows through
`lists.write_*`, and only if the list in force is still the one the preview was compared with. Nothing is ever
half-applied."""

from __future__ import annotations

import csv
import re
import secrets
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Select, and_, delete, exists, func, insert, literal, or_, select, true, update

from sync.core.i18n import _
from sync.core.roster_csv import RosterError, iter_roster
from sync.core.clock import utc_text
from sync.hq import jobs, lists
from sync.hq.db import HqDatabase
from sync.hq.district import DistrictSecrets
from sync.hq.tables import jobs as job_rows
from sync.hq.tables import (
    colour_list,
    dialect_insert,
    roster,
    staged_colour_rows,
    staged_roster_rows,
    staged_uploads,
    upload_files,
)
from sync.hq.paging import Page, keyset_page
from sync.hq.revisions import stamp_of

BATCH_ROWS = 10_000
KEEP_STAGED = timedelta(days=1)
PART_BYTES = 1024 * 1024
"""An uploaded file is kept in the database in parts of this size."""
CHECK_JOB = "check-upload"
"""The kind of background job that checks a stored upload (`sync.hq.jobs`)."""
CUT_OFF_AFTER = timedelta(hours=1)
"""An upload still waiting for the rest of its file this long after it began was cut off (housekeeping)."""
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class Kind(StrEnum):
    ROSTER = "roster"
    COLOUR = "colour"


class State(StrEnum):
    CHECKING = "checking"
    READY = "ready"
    FAILED = "failed"
    APPLIED = "applied"
    DISCARDED = "discarded"


class Change(StrEnum):
    ADDED = "added"
    CHANGED = "changed"
    REMOVED = "removed"


@dataclass(frozen=True)
class Upload:
    id: str
    kind: Kind
    gate: str | None
    filename: str
    uploaded_by: str
    uploaded_at: str
    state: State
    rows_read: int
    message: str
    base_version: int
    added: int | None
    changed: int | None
    removed: int | None
    unchanged: int | None
    finished_at: str | None

    @property
    def what(self) -> str:
        return f"roster of gate {self.gate}" if self.kind is Kind.ROSTER else "red/yellow list"

    @classmethod
    def of(cls, row: Any) -> Upload:
        values = dict(row._mapping)
        return cls(**{**values, "kind": Kind(values["kind"]), "state": State(values["state"])})


@dataclass(frozen=True)
class Difference:
    """One person whose entry in the list changes: before (None when added) and after (None when removed), with
    their masked name (the file's, else a roster's at HQ: officials check whom they act on) and the line of the
    uploaded file that changes them (None when removed: they are in no line)."""

    subject: str
    before: tuple[str, str] | None
    after: tuple[str, str] | None
    name: str = ""
    line: int | None = None


def _scope(kind: Kind, gate: str | None) -> str:
    return lists.roster_scope(gate or "") if kind is Kind.ROSTER else lists.COLOUR_LIST_SCOPE


def _staged(kind: Kind) -> Any:
    return staged_roster_rows if kind is Kind.ROSTER else staged_colour_rows


def _values(kind: Kind) -> tuple[str, str]:
    return ("name", "unit") if kind is Kind.ROSTER else ("colour", "note")


def _current(kind: Kind, gate: str | None) -> tuple[Any, Any]:
    """The list in force (a table or a query over one), and the condition selecting it."""
    if kind is Kind.ROSTER:
        return roster, roster.c.gate == gate
    return colour_list, true()


def create(db: HqDatabase, kind: Kind, filename: str, username: str, gate: str | None = None) -> Upload:
    """Register an upload about to be checked (the roster's gate must be enrolled): the command line then
    `check`s its file; the dashboard stores it (`store_part`) and queues its check (`queue_check`)."""
    upload_id = secrets.token_hex(16)
    with db.begin() as conn:
        if kind is Kind.ROSTER:
            lists._require_gate(conn, gate or "")
        conn.execute(
            insert(staged_uploads).values(
                id=upload_id,
                kind=kind.value,
                gate=gate,
                filename=filename[:200],
                uploaded_by=username,
                uploaded_at=utc_text(datetime.now(UTC)),
                state=State.CHECKING.value,
                rows_read=0,
                message="",
                base_version=0,
            )
        )
    return get(db, upload_id)


def get(db: HqDatabase, upload_id: str) -> Upload:
    with db.read() as conn:
        row = conn.execute(select(staged_uploads).where(staged_uploads.c.id == upload_id)).first()
    if row is None:
        raise lists.ListError(_("no such upload (uploads waiting for a decision are kept for a day)"))
    return Upload.of(row)


def recent(db: HqDatabase, *, after: str | None = None, before: str | None = None) -> Page[Upload]:
    with db.read() as conn:
        found = keyset_page(
            conn,
            select(staged_uploads),
            [staged_uploads.c.uploaded_at, staged_uploads.c.id],
            lambda r: [r.uploaded_at, r.id],
            after=after,
            before=before,
            size=20,
            descending=True,
        )
    return Page([Upload.of(r) for r in found.items], found.next_cursor, found.prev_cursor)


def _set(db: HqDatabase, upload_id: str, **values: Any) -> None:
    with db.begin() as conn:
        conn.execute(update(staged_uploads).where(staged_uploads.c.id == upload_id).values(**values))


def _stage(
    db: HqDatabase, upload: Upload, rows: Iterable[dict[str, str]], progress: Callable[[int], None] | None
) -> int:
    """Write rows to the staging table in batches (a file naming one person twice is refused when reading ends,
    see `sync.core.csvlist`; the staging is then discarded); the count read,
    also given to `progress` after each batch."""
    table = _staged(upload.kind)
    first, second = _values(upload.kind)
    kept = (first, second, "line", "phone") if upload.kind is Kind.ROSTER else (first, second, "line", "name")
    read = 0
    batch: dict[str, dict[str, Any]] = {}

    def flush() -> None:
        with db.begin() as conn:
            statement = dialect_insert(conn, table)
            statement = statement.on_conflict_do_update(
                index_elements=["upload_id", "subject"], set_={c: statement.excluded[c] for c in (*kept, "kept_id")}
            )
            conn.execute(statement, list(batch.values()))
            conn.execute(update(staged_uploads).where(staged_uploads.c.id == upload.id).values(rows_read=read))
        batch.clear()
        if progress is not None:
            progress(read)

    for row in rows:
        read += 1
        batch[row["subject"]] = {"upload_id": upload.id, "subject": row["subject"], "kept_id": row.get("kept_id")} | {
            c: int(row[c]) if c == "line" else row.get(c, "") for c in kept
        }
        if len(batch) >= BATCH_ROWS:
            flush()
    if batch:
        flush()
    return read


def _refuse_over_limit(path: Path, max_rows: int) -> None:
    """Refuse a file of more than `max_rows` rows before any of it is checked or staged. Counting CSV rows is
    cheap (a million in under a second) where checking and staging them is not (a minute or more), so a file
    far over the limit is refused at once instead of after the work is done and thrown away. Bytes that are not
    UTF-8, and lines that are not CSV, are left to the reader that follows, which names them."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        rows = -1  # the header is not a row
        try:
            for record in reader:
                if not record:  # a blank line, which the readers skip too
                    continue
                rows += 1
                if rows > max_rows:
                    raise lists.ListError(f"{path.name} has more than {max_rows} rows; nothing loaded")
        except csv.Error:
            return


def _rows(upload: Upload, path: Path, district_key: bytes, max_rows: int) -> Iterable[dict[str, str]]:
    """The file's rows, each with its ID number as HQ keeps it (to hash it for each gate's key)."""
    keep_id = DistrictSecrets(district_key).keep_id
    if upload.kind is Kind.COLOUR:
        return lists.iter_colour_list(path, district_key, max_rows=max_rows, line_field="line", keep_id=keep_id)
    return iter_roster(path, district_key, max_rows=max_rows, line_field="line", keep_id=keep_id)


def check(
    db: HqDatabase,
    upload_id: str,
    path: Path,
    district_key: bytes,
    max_rows: int = lists.MAX_CSV_ROWS,
    progress: Callable[[int], None] | None = None,
) -> Upload:
    """Count, read, validate and stage the file (at most `max_rows` rows; `progress` hears the rows read so
    far), then count the differences; the upload ends READY or FAILED (with the reason)."""
    upload = get(db, upload_id)
    try:
        _refuse_over_limit(path, max_rows)
        read = _stage(db, upload, _rows(upload, path, district_key, max_rows), progress)
        _count_differences(db, upload, read)
    except (lists.ListError, RosterError) as exc:
        _drop_staged(db, upload)
        _set(db, upload_id, state=State.FAILED.value, message=str(exc), finished_at=utc_text(datetime.now(UTC)))
    except jobs.Stopped:
        raise  # left checking: the job is started over
    except Exception as exc:
        _drop_staged(db, upload)
        _set(db, upload_id, state=State.FAILED.value, message=f"the upload could not be checked: {exc}",
             finished_at=utc_text(datetime.now(UTC)))
        raise
    return get(db, upload_id)


def _pairs(upload: Upload) -> tuple[Any, Any, Any]:
    """The staged rows of this upload, the list in force, and the join condition between them."""
    staged = _staged(upload.kind)
    current, selected = _current(upload.kind, upload.gate)
    return staged, current, and_(current.c.subject == staged.c.subject, selected)


def _differ(upload: Upload, staged: Any, current: Any) -> Any:
    first, second = _values(upload.kind)
    phone = [current.c.phone != staged.c.phone] if upload.kind is Kind.ROSTER else []
    return or_(current.c[first] != staged.c[first], current.c[second] != staged.c[second], *phone)


def _count_differences(db: HqDatabase, upload: Upload, read: int) -> None:
    staged, current, joined = _pairs(upload)
    _table, selected = _current(upload.kind, upload.gate)
    mine = staged.c.upload_id == upload.id
    with db.read() as conn:
        base = stamp_of(conn, _scope(upload.kind, upload.gate))
        total = conn.execute(select(func.count()).select_from(staged).where(mine)).scalar_one()
        added = conn.execute(
            select(func.count()).select_from(staged).where(mine, ~exists().where(joined))
        ).scalar_one()
        changed = conn.execute(
            select(func.count()).select_from(staged.join(current, joined)).where(mine, _differ(upload, staged, current))
        ).scalar_one()
        removed = conn.execute(
            select(func.count())
            .select_from(current)
            .where(selected, ~exists().where(staged.c.subject == current.c.subject, mine))
        ).scalar_one()
    _set(
        db,
        upload.id,
        state=State.READY.value,
        rows_read=read,
        base_version=base,
        added=added,
        changed=changed,
        removed=removed,
        unchanged=total - added - changed,
        finished_at=utc_text(datetime.now(UTC)),
    )


def differences(
    db: HqDatabase, upload: Upload, change: Change, *, after: str | None = None, before: str | None = None
) -> Page[Difference]:
    """One page of the people an upload adds, changes or removes, by subject."""
    staged, current, joined = _pairs(upload)
    _table, selected = _current(upload.kind, upload.gate)
    first, second = _values(upload.kind)
    mine = staged.c.upload_id == upload.id
    query: Select[Any]
    if change is Change.ADDED:
        query = select(
            staged.c.subject,
            staged.c[first].label("new1"),
            staged.c[second].label("new2"),
            _name(staged.c.name, staged.c.subject).label("name"),
            staged.c.line,
        ).where(mine, ~exists().where(joined))
        subject = staged.c.subject
    elif change is Change.CHANGED:
        query = (
            select(
                staged.c.subject,
                current.c[first].label("old1"),
                current.c[second].label("old2"),
                staged.c[first].label("new1"),
                staged.c[second].label("new2"),
                _name(staged.c.name, current.c.name, staged.c.subject).label("name"),
                staged.c.line,
            )
            .select_from(staged.join(current, joined))
            .where(mine, _differ(upload, staged, current))
        )
        subject = staged.c.subject
    else:
        query = select(
            current.c.subject,
            current.c[first].label("old1"),
            current.c[second].label("old2"),
            _name(current.c.name, current.c.subject).label("name"),
            literal(None).label("line"),
        ).where(selected, ~exists().where(staged.c.subject == current.c.subject, mine))
        subject = current.c.subject
    with db.read() as conn:
        found = keyset_page(conn, query, [subject], lambda r: [r.subject], after=after, before=before)
    items = []
    for row in found.items:
        values = row._mapping
        old = (values["old1"], values["old2"]) if "old1" in values else None
        new = (values["new1"], values["new2"]) if "new1" in values else None
        items.append(Difference(row.subject, old, new, values["name"] or "", values["line"]))
    return Page(items, found.next_cursor, found.prev_cursor)


def _name(*columns: Any) -> Any:
    """The first masked name given (the file's, then the list's), else one from a gate's roster at HQ; every
    column but the last is a name, the last the subject."""
    *names, subject = columns
    known = select(func.max(roster.c.name)).where(roster.c.subject == subject).scalar_subquery()
    return func.coalesce(*[func.nullif(name, "") for name in names], known, "")


class StaleUpload(lists.ListError):
    """The list changed after the preview was made; the preview no longer says what applying would do."""


def apply(db: HqDatabase, upload_id: str) -> int:
    """Replace the list with the upload's rows in one transaction; returns the new bundle version."""
    with db.begin() as conn:
        row = conn.execute(select(staged_uploads).where(staged_uploads.c.id == upload_id).with_for_update()).first()
        if row is None:
            raise lists.ListError(_("no such upload"))
        upload = Upload.of(row)
        if upload.state is not State.READY:
            raise lists.ListError(_("this upload is {state}, not ready to apply").format(state=_(upload.state.value)))
        if stamp_of(conn, _scope(upload.kind, upload.gate)) != upload.base_version:
            raise StaleUpload(
                f"the {upload.what} changed after this preview was made; upload the file again to see what it would change now"
            )
        staged = _staged(upload.kind)
        first, second = _values(upload.kind)
        mine = staged.c.upload_id == upload.id
        if upload.kind is Kind.ROSTER:
            gate = upload.gate or ""
            version = lists.write_roster(
                conn,
                gate,
                select(
                    literal(gate), staged.c.subject, staged.c[first], staged.c[second], staged.c.kept_id, staged.c.phone
                ).where(mine),
            )
        else:
            version = lists.write_colour_list(
                conn,
                select(staged.c.subject, staged.c[first], staged.c[second], staged.c.name, staged.c.kept_id).where(mine),
            )
        conn.execute(delete(staged).where(mine))
        conn.execute(
            update(staged_uploads)
            .where(staged_uploads.c.id == upload.id)
            .values(state=State.APPLIED.value, message=f"applied as bundle version {version}")
        )
    return version


def discard(db: HqDatabase, upload_id: str) -> None:
    upload = get(db, upload_id)
    if upload.state in (State.APPLIED, State.DISCARDED):
        return
    _drop_staged(db, upload)
    _set(db, upload_id, state=State.DISCARDED.value)


def _drop_staged(db: HqDatabase, upload: Upload) -> None:
    table = _staged(upload.kind)
    with db.begin() as conn:
        conn.execute(delete(table).where(table.c.upload_id == upload.id))


# -- the dashboard's uploads, stored and checked in the background ------------------------------------------


def store_part(db: HqDatabase, upload_id: str, part: int, data: bytes) -> None:
    """Keep one part of an uploaded file (parts are numbered from 0, in order)."""
    with db.begin() as conn:
        conn.execute(insert(upload_files).values(upload_id=upload_id, part=part, data=data))


def queue_check(db: HqDatabase, upload_id: str) -> None:
    """The whole file is stored: queue its check, for whichever HQ process takes it."""
    with db.begin() as conn:
        jobs.queue(conn, CHECK_JOB, upload_id)


def _drop_file(db: HqDatabase, upload_id: str) -> None:
    with db.begin() as conn:
        conn.execute(delete(upload_files).where(upload_files.c.upload_id == upload_id))


def safe_name(filename: str) -> str:
    """A file name fit for a local path, from what a browser sent (its own name, letters, digits, . _ -)."""
    return _SAFE_NAME.sub("_", Path(filename or "upload.csv").name)[:100] or "upload.csv"


def check_stored(
    db: HqDatabase,
    upload_id: str,
    district_key: bytes | None,
    max_rows: int,
    stopping: Callable[[], bool],
    refused: Callable[[Upload], None] = lambda _upload: None,
) -> str:
    """The check job: `check` the stored file of an upload still checking, from the start (a check cut short by
    a process that stopped is started over), then remove the file; `refused` hears of an upload this check
    ended FAILED. Raises `jobs.Stopped` when `stopping()` says this process is stopping (the upload stays
    checking, and its job due)."""
    upload = get(db, upload_id)
    if upload.state is not State.CHECKING:
        _drop_file(db, upload_id)
        return f"upload {upload_id} was {upload.state.value} already"
    if district_key is None:
        _set(db, upload_id, state=State.FAILED.value, finished_at=utc_text(datetime.now(UTC)),
             message="the HQ process that took this check was started without the district key (--district-key)")
        _drop_file(db, upload_id)
        refused(get(db, upload_id))
        return f"upload {upload_id} failed: no district key"
    _drop_staged(db, upload)
    _set(db, upload_id, rows_read=0)

    def progress(_read: int) -> None:
        if stopping():
            raise jobs.Stopped(f"stopped while checking upload {upload_id}")

    with tempfile.TemporaryDirectory(prefix="pocket-hq-check-") as folder:
        path = Path(folder) / safe_name(upload.filename)
        with db.read() as conn, path.open("wb") as out:
            for part in conn.execute(select(upload_files.c.data).where(upload_files.c.upload_id == upload_id)
                                     .order_by(upload_files.c.part)).scalars():
                out.write(part)
        done = check(db, upload_id, path, district_key, max_rows, progress)
    _drop_file(db, upload_id)
    if done.state is State.FAILED:
        refused(done)
    return f"upload {upload_id} {done.state.value}: {done.rows_read} rows read"


def fail_cut_off(conn: Connection, now: datetime) -> int:
    """Uploads whose file never arrived whole (the browser or the HQ process receiving it went away) end FAILED,
    with whatever parts were stored (housekeeping)."""
    waiting = select(job_rows.c.name).where(job_rows.c.name == literal(f"{CHECK_JOB}:") + staged_uploads.c.id)
    cut = list(conn.execute(select(staged_uploads.c.id).where(
        staged_uploads.c.state == State.CHECKING.value, staged_uploads.c.uploaded_at < utc_text(now - CUT_OFF_AFTER),
        ~waiting.exists())).scalars())
    for upload_id in cut:
        conn.execute(delete(upload_files).where(upload_files.c.upload_id == upload_id))
    if cut:
        conn.execute(update(staged_uploads).where(staged_uploads.c.id.in_(cut)).values(
            state=State.FAILED.value, finished_at=utc_text(now),
            message="HQ did not receive the whole file; upload it again"))
    return len(cut)


def expire(conn: Connection, now: datetime) -> int:
    """Discard uploads nobody applied within a day (their staged rows go; the record of the upload stays)."""
    cutoff = utc_text(now - KEEP_STAGED)
    old = list(conn.execute(select(staged_uploads.c.id, staged_uploads.c.kind).where(
        staged_uploads.c.state == State.READY.value, staged_uploads.c.uploaded_at < cutoff)))
    for row in old:
        table = _staged(Kind(row.kind))
        conn.execute(delete(table).where(table.c.upload_id == row.id))
        conn.execute(update(staged_uploads).where(staged_uploads.c.id == row.id).values(
            state=State.DISCARDED.value, message="not applied within a day"))
    return len(old)
