"""CSV downloads of tracing results, streamed row by row (a month at a busy gate is a big file).

Cells hold what gates sent (names, reasons, keeper names): a cell that starts with '=', '+', '-', '@' or a
tab/carriage return would run as a formula when the file is opened in a spreadsheet, so such cells get a
leading apostrophe (OWASP's advice for CSV injection). Numbers HQ writes itself are left alone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def lines(header: Sequence[str], rows: Iterable[Sequence[object]], batch: int = 500) -> Iterator[bytes]:
    """UTF-8 CSV (with a byte-order mark, so spreadsheets read it as UTF-8), a batch of rows per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header)
    for n, row in enumerate(rows, start=1):
        writer.writerow([cell(v) for v in row])
        if n % batch == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
