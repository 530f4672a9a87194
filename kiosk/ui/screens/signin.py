"""Sign-in at the start of a shift: operator id and PIN, checked against salted hashes off the UI thread.

Five wrong tries lock sign-in for a minute, so a PIN cannot be guessed at the gate by trying them all.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from kiosk.operators import Operator
from kiosk.ui.errors import ShowsWorkerErrors
from kiosk.ui.context import KioskContext
from kiosk.ui.messages import SignInChecked
from kiosk.ui.markup_safe import plain
from kiosk.ui.words import speak_bindings
from sync.core.i18n import N_, _

MAX_TRIES = 5
LOCK_SECONDS = 60.0


class SignInScreen(ShowsWorkerErrors, Screen[Operator]):
    BINDINGS = [
        Binding("ctrl+q", "app.quit", N_("Quit"), priority=True),
        # Enter moves to the PIN the moment the key arrives, before the keys typed after it are handed on: a fast
        # "li01<Enter>1111" must put the PIN in the PIN field (the app does the same for Tab on every screen).
        Binding("enter", "enter", show=False, priority=True),
    ]

    def __init__(self, context: KioskContext) -> None:
        super().__init__()
        speak_bindings(self)
        self.context = context
        self._failures = 0
        self._locked_until = 0.0

    def compose(self) -> ComposeResult:
        with Center():
            with Vertical(id="signin-box"):
                yield Label(_("POCKET GATE · sign in to start your shift"), id="signin-title")
                yield Static(self._hint(), id="signin-hint")
                yield Label(_("Operator id"))
                yield Input(placeholder=_("e.g. li01"), max_length=32, id="operator-id", compact=True)
                yield Label(_("PIN"))
                yield Input(placeholder=_("digits"), password=True, restrict=r"[0-9]{0,12}", id="pin", compact=True)
                yield Button(_("Sign in"), variant="primary", id="sign-in", compact=True)
                yield Static(id="signin-error")
        yield Footer()

    def _hint(self) -> Text:
        gate = Text.assemble(_("Gate "), plain(self.context.config.gate_id, limit=40), _(". "))
        if self.context.notes:
            gate += Text("\n".join(self.context.notes) + "\n", style="bold")
        if self.context.demo:
            return gate + Text(_("Demo: operator demo, PIN 0000."))
        if not self.context.operators.operators():
            return gate + Text(
                _("No operators yet: in a terminal run  pocket-kiosk operators add ID --name NAME  then start again.")
            )
        return gate + Text(_("Every entry you log carries your operator id."))

    def on_mount(self) -> None:
        self.query_one("#operator-id", Input).focus()

    def action_enter(self) -> None:
        """Enter in the operator id goes on to the PIN at once; anywhere else it takes its usual way, behind the
        keys typed before it (Enter in the PIN signs in with all of them)."""
        if self.focused is not self.query_one("#operator-id", Input):
            raise SkipAction()
        self.set_focus(self.query_one("#pin", Input))

    @on(Input.Submitted, "#pin")
    @on(Button.Pressed, "#sign-in")
    def sign_in(self) -> None:
        remaining = self._locked_until - time.monotonic()
        if remaining > 0:
            self._error(_("Too many wrong PINs: try again in {seconds:.0f} s.").format(seconds=remaining))
            return
        operator_id = self.query_one("#operator-id", Input).value.strip()
        pin = self.query_one("#pin", Input).value
        if not operator_id or not pin:
            self._error(_("Type your operator id and PIN."))
            return
        self.query_one("#sign-in", Button).disabled = True
        self._error(_("Checking…"))
        self.check_pin(operator_id, pin)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sign-in", name="sign-in")
    def check_pin(self, operator_id: str, pin: str) -> None:
        self.post_message(SignInChecked(operator_id, self.context.operators.verify(operator_id, pin)))

    def on_sign_in_checked(self, message: SignInChecked) -> None:
        self.query_one("#sign-in", Button).disabled = False
        pin = self.query_one("#pin", Input)
        pin.value = ""
        if message.operator is not None:
            self.dismiss(message.operator)
            return
        self._failures += 1
        if self._failures >= MAX_TRIES:
            self._failures = 0
            self._locked_until = time.monotonic() + LOCK_SECONDS
            self._error(_("Too many wrong PINs: sign-in is locked for {seconds:.0f} s.").format(seconds=LOCK_SECONDS))
        else:
            self._error(_("Unknown operator or wrong PIN ({tries} tries left).").format(tries=MAX_TRIES - self._failures))
        pin.focus()

    def _error(self, text: str) -> None:
        self.query_one("#signin-error", Static).update(Text(text))
