"""CSV downloads of tracing results, streamed row by row (a month at a busy gate is a big file).

Cells hold what gates sent (names, reasons, keeper names): each goes through `kiosk.csvcell.safe_cell`, the
cleaning the gate's own export uses, so control and bidi characters arrive escaped and a formula (even behind
leading spaces) stays text when the file is opened in a spreadsheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from kiosk.csvcell import safe_cell


def lines(header: Sequence[str], rows: Iterable[Sequence[object]], batch: int = 500) -> Iterator[bytes]:
    """UTF-8 CSV (with a byte-order mark, so spreadsheets read it as UTF-8), a batch of rows per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header)
    for n, row in enumerate(rows, start=1):
        writer.writerow([safe_cell(v) for v in row])
        if n % batch == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
