"""Reading a list CSV that a spreadsheet saved (a roster of residents, the red/yellow list): one reader for the
gate's `roster import` and for HQ's loads and dashboard uploads, so that all of them refuse the same files in
the same words.

The file is read as a stream (a city's million-row list never sits in memory whole) and checked whole before
anything is applied: good rows are yielded as they are read, and when the file lacks a column, has a bad line,
more than `max_rows` rows, bytes that are not UTF-8 or lines that are not CSV, the caller's error is raised once
reading reaches it, naming the file (by name only: HQ reads uploads from a temporary copy) and the first bad
lines. The caller must then discard what it was given.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path

PROBLEMS_SHOWN = 10

RowMaker = Callable[[dict[str, str]], dict[str, str] | str]
"""Turns one CSV record into a row to keep, or into the text of what is wrong with that line."""


def checked_rows(
    path: Path,
    *,
    required: set[str],
    expected: str,
    max_rows: int,
    error: type[Exception],
    make_row: RowMaker,
) -> Iterator[dict[str, str]]:
    """The rows `make_row` makes of each record of the CSV at `path`, which must have the `required` columns
    (`expected` names all of them for the message); `error` is raised for anything that refuses the file."""
    name = path.name
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise error(f"cannot read {name}: {exc.strerror}") from exc
    problems: list[str] = []
    line = 1
    with handle:
        try:
            reader = csv.DictReader(handle)
            missing = required - set(reader.fieldnames or [])
            if missing:
                raise error(f"{name} lacks the column(s) {', '.join(sorted(missing))}; expected {expected}")
            for line, record in enumerate(reader, start=2):
                if line - 1 > max_rows:
                    raise error(f"{name} has more than {max_rows} rows; nothing loaded")
                made = make_row(record)
                if isinstance(made, str):
                    problems.append(f"line {line}: {made}")
                else:
                    yield made
        except UnicodeDecodeError as exc:
            raise error(f"{name} is not UTF-8 text after line {line} (save the spreadsheet as CSV UTF-8)") from exc
        except csv.Error as exc:
            raise error(f"{name} is not a readable CSV file after line {line}: {exc}") from exc
    if problems:
        more = len(problems) - PROBLEMS_SHOWN
        shown = "; ".join(problems[:PROBLEMS_SHOWN]) + (f"; and {more} more" if more > 0 else "")
        raise error(f"{name}: nothing loaded: {shown}")
