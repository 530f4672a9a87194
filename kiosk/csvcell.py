"""One CSV cell that a spreadsheet opens as plain text: the cleaning every CSV export uses, the gate's log
export (`kiosk.export`) and HQ's tracing downloads (`sync.hq.web.csvout`) alike.

Cells hold what was scanned or typed at a gate (names, reasons, keeper ids), which is hostile:
- control and format characters (ESC, BEL, bidi overrides that reorder what a reader sees...) become visible
  escapes through `kiosk.text.visible`, as on every other output;
- a cell that starts a formula ('=', '+', '-', '@', OWASP's list), even behind leading spaces, which
  spreadsheets skip, gets a leading apostrophe so it stays text (CSV injection).
Numbers are written as they are: they cannot hold a formula, and a spreadsheet should sum a temperature.
"""

from __future__ import annotations

from kiosk.text import visible

MAX_CELL_CHARS = 20_000
"""The longest text field a gate sends (its reasons and details); longer text is cut with an ellipsis."""
FORMULA_STARTS = ("=", "+", "-", "@")
"""Tab and carriage return, also on OWASP's list, never reach the check: `visible` has escaped them."""


def safe_cell(value: object) -> str:
    """The text of one CSV cell: '' for None, numbers as written, text escaped and formula-proofed."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = visible(str(value), limit=MAX_CELL_CHARS)
    return "'" + text if text.lstrip().startswith(FORMULA_STARTS) else text
