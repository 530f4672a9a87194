"""The log screen: recent entries in a table, searchable by masked name or time, and CSV export of a range.

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

from kiosk.export import ExportError, export_entries, local_time, read_entries
from sync.core.policy import Decision
from kiosk.store import entries_phrase
from sync.core.refusals import reasons_of
from kiosk.ui.banner import WORDS
from kiosk.ui.errors import ShowsWorkerErrors
from kiosk.ui.context import KioskContext
from kiosk.ui.markup_safe import plain, shown

RECENT_DAYS = 7
MAX_ROWS = 2000
VERDICT_STYLES = {"pass": "bold green", "hold": "bold yellow", "refuse": "bold red"}
CODE_TYPES = {"PGC1": "code", "HC1": "EU cert", "SHC": "SMART card", "invalid": "not valid"}
"""Keeper's words for the logged code types (manual and visitor read as they are)."""


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
    """'2026-11-23 14:00' or '2026-11-23' as the keeper's local time (aware)."""
    try:
        return datetime.fromisoformat(text.strip()).astimezone()
    except ValueError:
        raise ValueError(f"'{text.strip()}' is not a time like 2026-11-23 14:00") from None


def matches(row: dict[str, Any], query: str) -> bool:
    """Search by masked name ('Z****') or by local time ('14:0', '2026-11-23')."""
    needle = query.strip().casefold()
    return not needle or needle in (row["name"] or "").casefold() or needle in local_time(row["ts"]).casefold()


class LogScreen(ShowsWorkerErrors, Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("ctrl+f", "focus_search", "Search"),
        Binding("ctrl+e", "export", "Export CSV"),
    ]

    def __init__(self, context: KioskContext) -> None:
        super().__init__()
        self.context = context
        self.rows: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Label(f"Entries of the last {RECENT_DAYS} days, newest first", id="log-title")
        yield Input(placeholder="Search by masked name (e.g. Z****) or time (e.g. 14:0)", id="search", compact=True)
        yield DataTable(id="entries", zebra_stripes=True, cursor_type="row")
        with Horizontal(id="export-bar"):
            yield Label("Export from")
            yield Input(id="export-from", compact=True)
            yield Label("to")
            yield Input(id="export-to", compact=True)
            yield Button("Export CSV", id="export", compact=True)
        yield Static(id="export-note")
        yield Footer()

    def on_mount(self) -> None:
        now = self.context.clock().astimezone()
        self.query_one("#export-from", Input).value = now.strftime("%Y-%m-%d 00:00")
        self.query_one("#export-to", Input).value = (now + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")
        table = self.query_one(DataTable)
        table.add_columns("Time", "Dir", "Name", "Type", "Verdict", "Reasons", "°C", "Operator")
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
            table.add_row(
                Text(local_time(row["ts"], "%m-%d %H:%M:%S")),
                Text(row["direction"]),
                plain(row["name"], limit=24),
                Text(CODE_TYPES.get(row["code_type"], row["code_type"])),
                Text(WORDS[Decision(row["verdict"])], style=VERDICT_STYLES.get(row["verdict"], "")),  # as the banner said
                plain("; ".join(reasons_of(row["reasons"])), limit=120),
                Text(temperature),
                plain(row["operator"], limit=32),
                key=row["id"],
            )
        self.query_one("#log-title", Label).update(
            f"Entries of the last {RECENT_DAYS} days, newest first: {table.row_count} shown"
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
            self._note("The end of the range must be after its start.", problem=True)
            return
        name = f"entries-{self.context.config.gate_id}-{start:%Y%m%d-%H%M}-{end:%Y%m%d-%H%M}.csv"
        self._note("Exporting…")
        self.export(start, end, self.context.exports_dir / name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="export", name="export")
    def export(self, start: datetime, end: datetime, path: Path) -> None:
        try:
            count = export_entries(self.context.config.database, start, end, path)
        except ExportError as exc:
            self.post_message(ExportFinished(str(exc), True))
            return
        self.post_message(ExportFinished(f"{entries_phrase(count)} written to {path}", False))

    def on_export_finished(self, message: ExportFinished) -> None:
        self._note(message.text, problem=message.problem)

    def _note(self, text: str, *, problem: bool = False) -> None:
        note = self.query_one("#export-note", Static)
        note.update(shown(text))
        note.set_class(problem, "-problem")
