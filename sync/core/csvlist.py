"""Reading a list CSV that a spreadsheet saved (a roster of residents, the red/yellow list): one reader for the
gate's `roster import` and for HQ's loads and dashboard uploads, so that all of them refuse the same files in
the same words.

The file is read as a stream (a city's million-row list never sits in memory whole) and checked whole before
anything is applied: good rows are yielded as they are read, and when the file lacks a column, has a bad line,
more than `max_rows` rows, bytes that are not UTF-8 or lines that are not CSV, or names one person on two lines
(the `unique` field of the rows made: which of two lines would hold is a guess nobody should make silently), the
caller's error is raised once reading reaches it, naming the file (by name only: HQ reads uploads from a
temporary copy) and the first bad lines. The caller must then discard what it was given.

Finding a person named twice costs 12 bytes a row (an 8-byte digest of the key and the line number, in numpy
arrays) rather than a dictionary of a million keys; the lines of the digests seen twice are then compared by
their keys in a second read, so a digest collision refuses nothing.
"""

from __future__ import annotations

import csv
import hashlib
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

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
    unique: str | None = None,
    twice: str = "names the same person as line {first}",
    line_field: str | None = None,
) -> Iterator[dict[str, str]]:
    """The rows `make_row` makes of each record of the CSV at `path`, which must have the `required` columns
    (`expected` names all of them for the message); `error` is raised for anything that refuses the file. With
    `unique`, two rows with the same value of that field refuse it too, each later line saying `twice`. With
    `line_field`, each row also holds its line number in the file there (as text), for a preview to show."""
    name = path.name
    digests, lines = array("Q"), array("I")
    problems: list[str] = []
    for line, made in _records(path, required, expected, max_rows, error, make_row):
        if isinstance(made, str):
            problems.append(f"line {line}: {made}")
            continue
        if unique is not None:
            digests.append(_digest(made[unique]))
            lines.append(line)
        if line_field is not None:
            made[line_field] = str(line)
        yield made
    if unique is not None:
        problems += _repeated(
            digests, lines, unique, twice, lambda: _records(path, required, expected, max_rows, error, make_row)
        )
    if problems:
        more = len(problems) - PROBLEMS_SHOWN
        shown = "; ".join(problems[:PROBLEMS_SHOWN]) + (f"; and {more} more" if more > 0 else "")
        raise error(f"{name}: nothing loaded: {shown}")


def _records(
    path: Path, required: set[str], expected: str, max_rows: int, error: type[Exception], make_row: RowMaker
) -> Iterator[tuple[int, dict[str, str] | str]]:
    """(line number, what `make_row` made of it) for each record, or `error` for a file that is not such a CSV."""
    name = path.name
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise error(f"cannot read {name}: {exc.strerror}") from exc
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
                yield line, make_row(record)
        except UnicodeDecodeError as exc:
            raise error(f"{name} is not UTF-8 text after line {line} (save the spreadsheet as CSV UTF-8)") from exc
        except csv.Error as exc:
            raise error(f"{name} is not a readable CSV file after line {line}: {exc}") from exc


def _digest(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")


def _repeated(
    digests: array[int],
    lines: array[int],
    unique: str,
    twice: str,
    read_again: Callable[[], Iterator[tuple[int, dict[str, str] | str]]],
) -> list[str]:
    """'line 9: names the same person as line 3' for every row whose `unique` value an earlier row has."""
    if not digests:
        return []
    found = np.frombuffer(digests, dtype=np.uint64)
    values, counts = np.unique(found, return_counts=True)
    suspects = values[counts > 1]
    if not suspects.size:
        return []
    suspect_lines = set(np.frombuffer(lines, dtype=np.uint32)[np.isin(found, suspects)].tolist())
    first: dict[str, int] = {}
    problems: list[tuple[int, str]] = []
    for line, made in read_again():
        if line not in suspect_lines or isinstance(made, str):
            continue
        key = made[unique]
        if key in first:
            problems.append((line, f"line {line}: {twice.format(first=first[key])}"))
        else:
            first[key] = line
    return [text for _, text in sorted(problems)]
