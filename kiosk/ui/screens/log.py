"""The log screen: recent entries in a table, searchable by name (as the keeper knows it, or masked) or time, and
CSV export of a range.

Entries are read and exported in thread workers on a read-only connection, so the camera keeps logging.
Every cell is a `Text` built from escaped values: the table never interprets a scanned name as markup.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, Static

from kiosk.export import ExportError, export_entries, read_entries
from kiosk.keeper_locale import local, local_time, zone
from kiosk.store import entries_phrase
from kiosk.ui.banner import WORDS
from kiosk.ui.context import KioskContext
from kiosk.ui.errors import ShowsWorkerErrors
from kiosk.ui.markup_safe import plain, shown
from kiosk.ui.words import speak_bindings
from sync.core.i18n import N_, _
from sync.core.identity import mask_name
from sync.core.policy import Decision
from sync.core.refusals import entry_reasons
from sync.core.wording import say

RECENT_DAYS = 7
MAX_ROWS = 2000
VERDICT_STYLES = {"pass": "bold green", "hold": "bold yellow", "refuse": "bold red"}
DIRECTIONS = {"in": N_("in"), "out": N_("out")}
COLUMNS = (
    (N_("Time"), 11),
    (N_("Dir"), 4),
    (N_("Name"), 10),
    (N_("Verdict"), 8),
    (N_("Reasons"), 0),
    (N_("°C"), 4),
    (N_("Operator"), 8),
)
"""The table's columns and their widths in cells (wide enough for the Chinese words too); the reasons get what
the terminal has left and wrap within it, so nothing is cut."""
MIN_REASON_CELLS = 16


class EntriesLoaded(Message):
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__()
        self.rows = rows


class ExportFinished(Message):
    def __init__(self, text: str, problem: bool) -> None:
        super().__init__()
        self.text = text
        self.problem = problem


def parse_local(text: str) -> datetime:
    """'2026-11-23 14:00' or '2026-11-23' in the district's time (aware)."""
    try:
        typed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(_("'{text}' is not a time like 2026-11-23 14:00").format(text=text.strip())) from None
    return typed.replace(tzinfo=zone()) if zone() is not None and typed.tzinfo is None else typed.astimezone()


def matches(row: dict[str, Any], query: str) -> bool:
    """Search by name as the keeper knows it ('Zhang San', '张三': masked as the log holds names, so it finds
    'Z**** S**', '张*'), by its masked form ('Z****'), or by local time ('14:0', '2026-11-23')."""
    needle = query.strip().casefold()
    if not needle:
        return True
    name = (row["name"] or "").casefold()
    masked = mask_name(query.strip()).casefold()
    known = "*" not in needle and bool(masked) and masked in name
    return needle in name or known or needle in local_time(row["ts"]).casefold()


class LogScreen(ShowsWorkerErrors, Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", N_("Back")),
        # Priority: the search field's own ctrl+e (end of line) and ctrl+f would otherwise take the keys, and
        # the footer would stop showing them, once the keeper has searched.
        Binding("ctrl+f", "focus_search", N_("Search"), priority=True),
        Binding("ctrl+e", "export", N_("Export CSV"), priority=True),
    ]

    def __init__(self, context: KioskContext) -> None:
        super().__init__()
        speak_bindings(self)
        self.context = context
        self.rows: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Label(_("Entries of the last {days} days, newest first").format(days=RECENT_DAYS), id="log-title")
        yield Input(placeholder=_("Search by name (Zhang San, or Z****) or time (e.g. 14:0)"), id="search", compact=True)
        yield DataTable(id="entries", zebra_stripes=True, cursor_type="row")
        with Horizontal(id="export-bar"):
            yield Label(_("Export from"))
            yield Input(id="export-from", compact=True)
            yield Label(_("to"))
            yield Input(id="export-to", compact=True)
            yield Button(_("Export CSV"), id="export", compact=True)
        yield Static(id="export-note")
        yield Footer()

    def on_mount(self) -> None:
        now = local(self.context.clock())
        self.query_one("#export-from", Input).value = now.strftime("%Y-%m-%d 00:00")
        self.query_one("#export-to", Input).value = (now + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")
        table = self.query_one(DataTable)
        fixed = sum(width + 2 * table.cell_padding for _label, width in COLUMNS if width)
        rest = max(MIN_REASON_CELLS, self.app.size.width - fixed - 2 * table.cell_padding - 2)
        for label, width in COLUMNS:
            table.add_column(_(label), width=width or rest)
        self.load_entries()
        table.focus()

    @work(thread=True, exclusive=True, exit_on_error=False, group="log", name="load log")
    def load_entries(self) -> None:
        end = self.context.clock() + timedelta(minutes=1)
        rows = read_entries(self.context.config.database, end - timedelta(days=RECENT_DAYS), end)
        self.post_message(EntriesLoaded(list(reversed(rows))[:MAX_ROWS]))

    def on_entries_loaded(self, message: EntriesLoaded) -> None:
        self.rows = message.rows
        self.show_rows()

    @on(Input.Changed, "#search")
    def show_rows(self) -> None:
        query = self.query_one("#search", Input).value
        table = self.query_one(DataTable)
        table.clear()
        for row in self.rows:
            if not matches(row, query):
                continue
            temperature = "" if row["temperature"] is None else f"{row['temperature']:.1f}"
            reasons = [say(r, zone()) for r in entry_reasons(row["reasons"], row.get("reason_codes"))]
            table.add_row(
                Text(local_time(row["ts"], "%m-%d %H:%M")),
                Text(_(DIRECTIONS.get(row["direction"], row["direction"]))),
                plain(row["name"], limit=24),
                Text(_(WORDS[Decision(row["verdict"])]), style=VERDICT_STYLES.get(row["verdict"], "")),  # as the banner
                Text("\n").join(plain(reason, limit=160) for reason in reasons),
                Text(temperature),
                plain(row["operator"], limit=32),
                key=row["id"],
                height=None,
            )
        self.query_one("#log-title", Label).update(
            _("Entries of the last {days} days, newest first: {count} shown").format(
                days=RECENT_DAYS, count=table.row_count
            )
        )

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    @on(Button.Pressed, "#export")
    @on(Input.Submitted, "#export-from, #export-to")
    def action_export(self) -> None:
        try:
            start = parse_local(self.query_one("#export-from", Input).value)
            end = parse_local(self.query_one("#export-to", Input).value)
        except ValueError as exc:
            self._note(str(exc), problem=True)
            return
        if end <= start:
            self._note(_("The end of the range must be after its start."), problem=True)
            return
        name = f"entries-{self.context.config.gate_id}-{start:%Y%m%d-%H%M}-{end:%Y%m%d-%H%M}.csv"
        self._note(_("Exporting…"))
        self.export(start, end, self.context.exports_dir / name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="export", name="export")
    def export(self, start: datetime, end: datetime, path: Path) -> None:
        try:
            count = export_entries(self.context.config.database, start, end, path)
        except ExportError as exc:
            self.post_message(ExportFinished(str(exc), True))
            return
        self.post_message(
            ExportFinished(_("{entries} written to {path}").format(entries=entries_phrase(count), path=path), False)
        )

    def on_export_finished(self, message: ExportFinished) -> None:
        self._note(message.text, problem=message.problem)

    def _note(self, text: str, *, problem: bool = False) -> None:
        note = self.query_one("#export-note", Static)
        note.update(shown(text))
        note.set_class(problem, "-problem")
