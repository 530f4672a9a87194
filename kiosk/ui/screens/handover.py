"""The handover at sign-out: the shift's counts and refusals by reason, exportable as CSV."""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label, Static

from kiosk.export import ExportError
from kiosk.operators import Shift
from kiosk.shift import Handover, handover, write_handover_csv
from kiosk.ui.errors import ShowsWorkerErrors
from kiosk.ui.context import KioskContext
from kiosk.ui.markup_safe import plain, shown
from kiosk.ui.words import speak_bindings
from sync.core.i18n import N_, _


class HandoverScreen(ShowsWorkerErrors, ModalScreen[bool]):
    """Dismissed with True when the keeper signs out, False to go back to the gate."""

    BINDINGS = [
        Binding("o", "sign_out", N_("Sign out")),
        Binding("e", "export", N_("Export CSV")),
        Binding("escape", "back", N_("Back")),
    ]

    def __init__(self, context: KioskContext, shift: Shift) -> None:
        super().__init__()
        speak_bindings(self)
        self.context = context
        self.shift = shift
        self.summary: Handover = handover(context.config.database, shift, context.clock())

    def compose(self) -> ComposeResult:
        with Vertical(id="handover-box"):
            yield Label(_("Handover: your shift"), id="handover-title")
            with VerticalScroll(id="handover"):
                yield Static(self.summary_text(), id="handover-summary")
            yield Static(id="handover-note")
            with Horizontal(classes="form-buttons"):
                yield Button(_("Sign out"), variant="primary", id="sign-out", compact=True)
                yield Button(_("Export CSV"), id="export", compact=True)
                yield Button(_("Back"), id="back", compact=True)
        yield Footer()

    def summary_text(self) -> Text:
        """Counts first, then the reasons for refusals with their counts, one per line."""
        width = max(cell_len(label) for label, _value in self.summary.counts()) + 2
        counts = [Text.assemble(set_cell_size(label, width), (value, "bold")) for label, value in self.summary.counts()]
        reasons = [Text.assemble(f"{count:>5}  ", plain(kind, limit=120)) for kind, count in self.summary.refusals()]
        if reasons:
            counts.append(Text(_("Refused or held, by reason:"), style="italic"))
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
        note.update(shown(_("Summary written to {path}").format(path=path)))

    @on(Button.Pressed, "#sign-out")
    def action_sign_out(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        self.dismiss(False)
