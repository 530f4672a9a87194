"""The red-code incident screen: when a red code (or a red-listed person) is refused, the district's procedure
(steps and a phone, from HQ's bundle), and one key to record what was done. The record goes to HQ ahead of the
entry backlog (`kiosk.incidents`). Esc leaves it unrecorded (the refusal itself is logged either way).

A district opts in by setting a procedure (`pocket-hq incidents procedure`): a gate without one from HQ (not
enrolled, or the district set none) shows the refusal as before and asks nothing. Codes scanned while this
screen is up are held and judged after it, as while a form is open."""

from __future__ import annotations

import sqlite3

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label, Static

from kiosk.gate import Outcome
from kiosk.incidents import OUTCOME_LABELS, record_incident
from kiosk.keeper_locale import zone
from kiosk.store import StoreError
from kiosk.ui.context import KioskContext
from kiosk.ui.markup_safe import plain
from kiosk.ui.words import speak_bindings
from sync.core.i18n import N_, _
from sync.core.wording import say
from sync.core.protocol import INCIDENT_OUTCOMES, IncidentProcedure


class IncidentScreen(ModalScreen[str | None]):
    """Dismissed with the outcome recorded, or None when the keeper left it unrecorded."""

    BINDINGS = [
        Binding("1", "done(0)", N_("Sent home")),
        Binding("2", "done(1)", N_("Waiting for health team")),
        Binding("3", "done(2)", N_("Left")),
        Binding("escape", "dismiss(None)", N_("Not now")),
    ]

    def __init__(self, context: KioskContext, refused: Outcome, procedure: IncidentProcedure, operator: str) -> None:
        super().__init__()
        speak_bindings(self)
        self.context = context
        self.refused = refused
        self.procedure = procedure
        self.operator = operator

    def compose(self) -> ComposeResult:
        with Vertical(id="incident-box"):
            yield Label(_("RED CODE: follow the district's procedure"), id="incident-title")
            yield Static(self.procedure_text(), id="incident-procedure")
            yield Label(_("What was done? Press 1, 2 or 3:"), id="incident-ask")
            with Horizontal(classes="form-buttons"):
                for n, outcome in enumerate(INCIDENT_OUTCOMES):
                    yield Button(f"{n + 1} {_(OUTCOME_LABELS[outcome])}", id=f"outcome-{n}", compact=True)
            yield Static(id="incident-error")
        yield Footer()

    def procedure_text(self) -> Text:
        """The person and reason, then HQ's steps, numbered, and the phone (all from outside: shown as plain
        text)."""
        verdict = self.refused.assessment.verdict
        row = self.refused.entry.row if self.refused.entry else {}
        lines = [Text.assemble(plain(row.get("name") or _("(no name)"), limit=40, style="bold"), "  ",
                               plain(_("; ").join(say(reason, zone()) for reason in verdict.reasons), limit=100))]
        steps = self.procedure.steps
        lines += [Text(f"{n}. ") + plain(step, limit=200) for n, step in enumerate(steps, start=1)]
        if self.procedure.phone:
            lines.append(Text.assemble(_("Phone: "), plain(self.procedure.phone, limit=40, style="bold")))
        return Text("\n").join(lines)

    def on_mount(self) -> None:
        self.query_one("#outcome-1", Button).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.startswith("outcome-"):
            self.action_done(int(event.button.id.removeprefix("outcome-")))

    def action_done(self, index: int) -> None:
        outcome = INCIDENT_OUTCOMES[index]
        try:
            record_incident(self.context.store, self.refused, outcome, self.operator, self.context.clock())
        except (StoreError, sqlite3.Error, OSError) as exc:
            self.query_one("#incident-error", Static).update(plain(_("Not recorded: {error}").format(error=exc)))
            return
        self.context.entry_logged()  # sync now: the incident goes to HQ first, within seconds when online
        self.dismiss(outcome)
