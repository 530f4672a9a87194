"""Reading a roster of residents from CSV: at a gate that has no HQ yet (HQ pushes rosters once synced), and at
HQ for `pocket-hq roster load` and the dashboard's roster uploads.

Columns: `id_number`, `name`, optional `unit` and `phone` (the household's, digits; shown to the keeper who calls
a visitor's host). ID numbers are hashed with the district key on the way in and
names are masked, so neither is ever kept raw (HQ also keeps each number encrypted, `keep_id`, to hash the row
for each gate's own key). The file is read as a stream and checked whole before anything is
applied (`sync.core.csvlist`): one bad row refuses the file, with the first bad lines named.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from sync.core.csvlist import checked_rows
from sync.core.identity import mask_name, resident_id_problem, subject_hash

MAX_ROWS = 200_000
SAME_PERSON = "the same ID number as line {first} (each person once, please)"


class RosterError(Exception):
    """The CSV cannot be used; the message lists the problems."""


KeepId = Callable[[str, str], str]
"""(ID number, document type) -> the number as HQ keeps it beside the row (`kept_id`)."""


def iter_roster(
    path: Path,
    district_key: bytes,
    doc_type: str = "resident-id",
    max_rows: int = MAX_ROWS,
    line_field: str | None = None,
    keep_id: KeepId | None = None,
) -> Iterator[dict[str, str]]:
    """Rows for the `roster` table, yielded as they are read (see `sync.core.csvlist` for what refuses the file; the
    caller discards what it was given then). One person on two lines refuses the file, naming both lines. With
    `keep_id`, each row also has the number as HQ keeps it (`kept_id`)."""

    def make_row(record: dict[str, str]) -> dict[str, str] | str:
        id_number = (record.get("id_number") or "").strip()
        problem = resident_id_problem(id_number) if doc_type == "resident-id" else None
        if not id_number or problem:
            return problem or "no id_number"
        name = (record.get("name") or "").strip()
        phone = "".join(ch for ch in (record.get("phone") or "") if ch not in " -+()")
        if phone and not (phone.isascii() and phone.isdigit() and 5 <= len(phone) <= 20):
            return "phone is not 5 to 20 digits"
        subject = subject_hash(district_key, id_number, doc_type)
        row = {"subject": subject, "name": mask_name(name), "unit": " ".join((record.get("unit") or "").split()),
               "phone": phone}
        return row | {"kept_id": keep_id(id_number, doc_type)} if keep_id else row

    return checked_rows(
        path, required={"id_number", "name"}, expected="id_number,name,unit,phone", max_rows=max_rows,
        error=RosterError, make_row=make_row, unique="subject", twice=SAME_PERSON, line_field=line_field,
    )


def read_roster(path: Path, district_key: bytes, doc_type: str = "resident-id") -> list[dict[str, str]]:
    """The whole roster from a CSV (see `iter_roster`), one row per resident, ready for the `roster` table."""
    return list(iter_roster(path, district_key, doc_type))
