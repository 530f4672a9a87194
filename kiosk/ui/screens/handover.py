"""The handover at sign-out: the shift's counts and refusals by reason, exportable as CSV."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Label, Static

from kiosk.export import ExportError
from kiosk.operators import Shift
from kiosk.shift import Handover, handover, write_handover_csv
from kiosk.ui.context import KioskContext
from kiosk.ui.safe import plain, shown


class HandoverScreen(ModalScreen[bool]):
    """Dismissed with True when the keeper signs out, False to go back to the gate."""

    BINDINGS = [Binding("escape", "back", "Back")]

    def __init__(self, context: KioskContext, shift: Shift) -> None:
        super().__init__()
        self.context = context
        self.shift = shift
        self.summary: Handover = handover(context.config.database, shift, context.clock())

    def compose(self) -> ComposeResult:
        with Vertical(id="handover-box"):
            yield Label("Handover: your shift", id="handover-title")
            yield DataTable(id="handover", show_header=False, cursor_type="none")
            yield Static(id="handover-note")
            with Horizontal(classes="form-buttons"):
                yield Button("Sign out", variant="primary", id="sign-out", compact=True)
                yield Button("Export CSV", id="export", compact=True)
                yield Button("Back", id="back", compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("item", "value")
        for label, value in self.summary.lines():
            table.add_row(plain(label, limit=80), Text(value, style="bold"))
        self.query_one("#sign-out", Button).focus()

    @on(Button.Pressed, "#export")
    def export(self) -> None:
        shift = self.summary.shift
        path = self.context.exports_dir / f"handover-{self.context.config.gate_id}-{shift.operator.id}-{shift.started_at:%Y%m%d-%H%M}.csv"
        note = self.query_one("#handover-note", Static)
        try:
            write_handover_csv(self.summary, path)
        except ExportError as exc:
            note.update(shown(str(exc)))
            return
        note.update(shown(f"Summary written to {path}"))

    @on(Button.Pressed, "#sign-out")
    def sign_out(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        self.dismiss(False)
