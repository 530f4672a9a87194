"""Reading a roster of residents from CSV: at a gate that has no HQ yet (HQ pushes rosters once synced), and at
HQ for `pocket-hq roster load` and the dashboard's roster uploads.

Columns: `id_number`, `name`, optional `unit`. ID numbers are hashed with the district key on the way in and
names are masked, so neither is ever kept raw. The file is read as a stream (a city district's roster never sits
in memory whole), and the whole file is checked before anything is applied: one bad row refuses the file, with
the first bad lines named.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from kiosk.identity import mask_name, resident_id_problem, subject_hash

MAX_ROWS = 200_000


class RosterError(Exception):
    """The CSV cannot be used; the message lists the problems."""


def iter_roster(
    path: Path, district_key: bytes, doc_type: str = "resident-id", max_rows: int = MAX_ROWS
) -> Iterator[dict[str, str]]:
    """Rows for the `roster` table, yielded as they are read. When the file has any bad line (or more than
    `max_rows` rows, or bytes that are not UTF-8), RosterError is raised once the reading reaches it, and the
    caller must discard what it was given: one bad line refuses the whole file. A later line for the same
    person replaces an earlier one."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise RosterError(f"cannot read {path}: {exc.strerror}") from exc
    problems: list[str] = []
    line = 1
    with handle:
        try:
            reader = csv.DictReader(handle)
            missing = {"id_number", "name"} - set(reader.fieldnames or [])
            if missing:
                raise RosterError(f"{path} lacks the column(s) {', '.join(sorted(missing))}; expected id_number,name,unit")
            for line, record in enumerate(reader, start=2):
                if line - 1 > max_rows:
                    raise RosterError(f"{path} has more than {max_rows} rows; nothing imported")
                id_number = (record.get("id_number") or "").strip()
                problem = resident_id_problem(id_number) if doc_type == "resident-id" else None
                if not id_number or problem:
                    problems.append(f"line {line}: {problem or 'no id_number'}")
                    continue
                subject = subject_hash(district_key, id_number, doc_type)
                name = (record.get("name") or "").strip()
                yield {"subject": subject, "name": mask_name(name), "unit": (record.get("unit") or "").strip()}
        except UnicodeDecodeError as exc:
            raise RosterError(f"{path} is not UTF-8 text after line {line} (save the spreadsheet as CSV UTF-8)") from exc
        except csv.Error as exc:
            raise RosterError(f"{path} is not a readable CSV file after line {line}: {exc}") from exc
    if problems:
        shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise RosterError(f"{path}: nothing imported: {shown}")


def read_roster(path: Path, district_key: bytes, doc_type: str = "resident-id") -> list[dict[str, str]]:
    """The whole roster from a CSV (see `iter_roster`), one row per resident, ready for the `roster` table."""
    return list({row["subject"]: row for row in iter_roster(path, district_key, doc_type)}.values())
