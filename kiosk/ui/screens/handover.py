"""The handover at sign-out: the shift's counts and refusals by reason, exportable as CSV."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label, Static

from kiosk.export import ExportError
from kiosk.operators import Shift
from kiosk.shift import REASON_PREFIX, Handover, handover, write_handover_csv
from kiosk.ui.errors import ShowsWorkerErrors
from kiosk.ui.context import KioskContext
from kiosk.ui.markup_safe import plain, shown


class HandoverScreen(ShowsWorkerErrors, ModalScreen[bool]):
    """Dismissed with True when the keeper signs out, False to go back to the gate."""

    BINDINGS = [
        Binding("o", "sign_out", "Sign out"),
        Binding("e", "export", "Export CSV"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, context: KioskContext, shift: Shift) -> None:
        super().__init__()
        self.context = context
        self.shift = shift
        self.summary: Handover = handover(context.config.database, shift, context.clock())

    def compose(self) -> ComposeResult:
        with Vertical(id="handover-box"):
            yield Label("Handover: your shift", id="handover-title")
            with VerticalScroll(id="handover"):
                yield Static(self.summary_text(), id="handover-summary")
            yield Static(id="handover-note")
            with Horizontal(classes="form-buttons"):
                yield Button("Sign out", variant="primary", id="sign-out", compact=True)
                yield Button("Export CSV", id="export", compact=True)
                yield Button("Back", id="back", compact=True)
        yield Footer()

    def summary_text(self) -> Text:
        """Counts first, then the reasons for refusals with their counts, one per line."""
        counts: list[Text] = []
        reasons: list[Text] = []
        for label, value in self.summary.lines():
            if label.startswith(REASON_PREFIX):
                reasons.append(Text.assemble(f"{value:>5}  ", plain(label.removeprefix(REASON_PREFIX), limit=120)))
            else:
                counts.append(Text.assemble(f"{label:<16}", (value, "bold")))
        if reasons:
            counts.append(Text("Refused or held, by reason:", style="italic"))
        return Text("\n").join(counts + reasons)

    def on_mount(self) -> None:
        self.query_one("#sign-out", Button).focus()

    @on(Button.Pressed, "#export")
    def action_export(self) -> None:
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
    def action_sign_out(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        self.dismiss(False)
