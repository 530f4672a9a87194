"""Reading a roster of residents from CSV for a gate that has no HQ yet (HQ pushes rosters once synced).

Columns: `id_number`, `name`, optional `unit`. ID numbers are hashed with the district key on the way in and
names are masked, so the gate's file never holds either raw. The whole file is checked before anything is
applied: one bad row refuses the file, with every bad line named.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from kiosk.identity import mask_name, resident_id_problem, subject_hash

MAX_ROWS = 200_000


class RosterError(Exception):
    """The CSV cannot be used; the message lists the problems."""


def read_roster(path: Path, district_key: bytes, doc_type: str = "resident-id") -> list[dict[str, str]]:
    """Rows ready for the `roster` table."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RosterError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise RosterError(f"{path} is not UTF-8 text (save the spreadsheet as CSV UTF-8)") from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = {"id_number", "name"} - set(reader.fieldnames or [])
    if missing:
        raise RosterError(f"{path} lacks the column(s) {', '.join(sorted(missing))}; expected id_number,name,unit")
    rows: dict[str, dict[str, str]] = {}
    problems: list[str] = []
    for line, record in enumerate(reader, start=2):
        if line - 1 > MAX_ROWS:
            raise RosterError(f"{path} has more than {MAX_ROWS} rows")
        id_number = (record.get("id_number") or "").strip()
        problem = resident_id_problem(id_number) if doc_type == "resident-id" else None
        if not id_number or problem:
            problems.append(f"line {line}: {problem or 'no id_number'}")
            continue
        subject = subject_hash(district_key, id_number, doc_type)
        name = (record.get("name") or "").strip()
        rows[subject] = {"subject": subject, "name": mask_name(name), "unit": (record.get("unit") or "").strip()}
    if problems:
        shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise RosterError(f"{path}: nothing imported: {shown}")
    return list(rows.values())
