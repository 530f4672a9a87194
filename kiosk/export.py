"""Reading entries back for people: by time range, as local times, and as CSV a spreadsheet opens safely.

Reads use their own read-only SQLite connection (WAL lets them run beside the kiosk's writer), so exporting a
week of entries never holds up a scan. Every cell goes through `sync.core.csvcell.safe_cell`, the cleaning HQ's
exports use too: a scanned name such as `=HYPERLINK(...)` must stay text when a supervisor opens the file in a
spreadsheet, and an ESC or a bidi override must not reach it raw.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterable, Mapping
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.keeper_locale import local_iso, zone
from sync.core.clock import utc_text
from sync.core.csvcell import safe_cell
from sync.core.i18n import N_, _
from sync.core.refusals import entry_reasons
from sync.core.wording import say

CSV_COLUMNS = {
    "seq": N_("seq"),
    "id": N_("id"),
    "time_utc": N_("time_utc"),
    "time_local": N_("time_local"),
    "gate": N_("gate"),
    "direction": N_("direction"),
    "name": N_("name"),
    "code_type": N_("code_type"),
    "colour": N_("colour"),
    "verdict": N_("verdict"),
    "reasons": N_("reasons"),
    "temperature": N_("temperature"),
    "operator": N_("operator"),
    "subject": N_("subject"),
    "details": N_("details"),
}
"""The export's columns and their headers: in English the column names scripts have always read (`code_type`,
`time_utc`), in Chinese words a keeper reads. Times: UTC as stored, and local as ISO 8601
with the district's offset; reasons worded in the reader's language and zone."""


class ExportError(Exception):
    """The export file cannot be written or the database cannot be read; the message says which."""


def details_of(row: Mapping[str, Any]) -> dict[str, str]:
    return dict(json.loads(row["details"] or "{}"))


def read_entries(
    db_path: Path, start: datetime, end: datetime, *, operator: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Entries with start <= time < end (optionally one operator's), in sequence order."""
    sql = "SELECT * FROM entries WHERE ts >= ? AND ts < ?"
    params: list[Any] = [utc_text(start), utc_text(end)]
    if operator is not None:
        sql += " AND operator = ?"
        params.append(operator)
    sql += " ORDER BY seq"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    try:
        with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)) as conn:
            conn.row_factory = sqlite3.Row
            return [dict(row) for row in conn.execute(sql, params)]
    except sqlite3.Error as exc:
        raise ExportError(f"cannot read entries from {db_path}: {exc}") from exc


def csv_row(row: Mapping[str, Any]) -> list[str]:
    values = {
        "seq": row["seq"],
        "id": row["id"],
        "time_utc": row["ts"],
        "time_local": local_iso(row["ts"]),
        "gate": row["gate"],
        "direction": row["direction"],
        "name": row["name"],
        "code_type": row["code_type"],
        "colour": row["colour"],
        "verdict": row["verdict"],
        "reasons": "; ".join(say(r, zone()) for r in entry_reasons(row["reasons"], row.get("reason_codes"))),
        "temperature": row["temperature"],
        "operator": row["operator"],
        "subject": row["subject"],
        "details": row["details"],
    }
    return [safe_cell(values[column]) for column in CSV_COLUMNS]


def write_csv(path: Path, header: Iterable[str], rows: Iterable[Iterable[object]]) -> None:
    """Write a CSV file whole (to a temporary name, then renamed), so a failed export leaves no half file."""
    temporary = path.with_name(path.name + ".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with temporary.open("w", newline="", encoding="utf-8-sig") as fh:
            writer = csv.writer(fh)
            writer.writerow(list(header))
            writer.writerows(rows)
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc


def export_entries(db_path: Path, start: datetime, end: datetime, out: Path) -> int:
    """Write the entries of a time range to `out` as CSV; return how many."""
    rows = read_entries(db_path, start, end)
    write_csv(out, [_(header) for header in CSV_COLUMNS.values()], (csv_row(row) for row in rows))
    return len(rows)
