"""Typed entries: a person without a phone code (manual entry) and visitor registration.

Each form hands what was typed to the gate in a thread worker; the gate checks it (an ID number's check
digit, a phone's length...) before judging, and commits the entry before the form closes with the verdict.
A mistake keeps the form open with the reason next to the field, and nothing is logged.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Footer, Input, Label, Select, Static

from kiosk.gate import CHILD_WITHOUT_ID, EntryInputError, Outcome, Visitor
from sync.core.identity import RESIDENT_ID
from sync.core.readings import temperature_problem
from kiosk.ui.errors import ShowsWorkerErrors
from kiosk.ui.typed_entries import parse_temperature, settle
from kiosk.idcard import CardReading
from kiosk.ui.messages import CardRead, EntryFailed, EntryRejected, VerdictReady
from kiosk.ui.markup_safe import shown
from kiosk.ui.words import speak_bindings
from sync.core.i18n import N_, _

ManualSubmit = Callable[[str, str, str, float | None], Outcome]
ReadCard = Callable[[], CardReading | None]
"""Reads an ID card from the camera's newest frame (None: no frame)."""
VisitorSubmit = Callable[[Visitor, float | None], Outcome]
HostPhone = Callable[[str], str | None]
"""A household (roster unit) -> its phone on the roster, or None."""


DOCUMENT_NAMES = {"passport": N_("Passport"), "other-id": N_("Other ID")}
"""The documents kiosk.toml names by default, in the keeper's words (others read as configured)."""


def document_options(others: tuple[str, ...]) -> list[tuple[str, str]]:
    named = [(_(DOCUMENT_NAMES[kind]) if kind in DOCUMENT_NAMES else kind.replace("-", " ").capitalize(), kind)
             for kind in others]
    return [(_("Resident ID (18 characters)"), RESIDENT_ID), *named]


def field(label: str, widget: Input | Select[str] | Static | Checkbox) -> ComposeResult:
    yield Label(label, classes="form-label")
    yield widget


class EntryForm(ShowsWorkerErrors, ModalScreen[Outcome | None]):
    """What both forms share: the error line, the worker, Esc to cancel."""

    BINDINGS = [Binding("escape", "cancel", N_("Cancel"))]
    TITLE_TEXT = ""
    origin = ""

    def __init__(self, document_types: tuple[str, ...], temperature: float | None) -> None:
        super().__init__()
        speak_bindings(self)
        self.document_types = document_types
        self.temperature = temperature

    def form_fields(self) -> ComposeResult:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical(classes="form-box"):
            yield Label(_(self.TITLE_TEXT), classes="form-title")
            yield Label(_("Tab: next field   ·   Enter: log the entry   ·   Esc: cancel"), classes="form-hint")
            with Grid(classes="form-grid"):
                yield from self.form_fields()
            yield Static(id="form-error")
            with Horizontal(classes="form-buttons"):
                yield Button(_("Log entry"), variant="primary", id="submit", compact=True)
                yield Button(_("Cancel"), id="cancel", compact=True)
        yield Footer()

    def temperature_field(self) -> ComposeResult:
        value = "" if self.temperature is None else f"{self.temperature:.1f}"
        yield from field(
            _("Temperature °C"),
            Input(value, placeholder=_("optional, e.g. 36.6"), restrict=r"[0-9.,]{0,5}", id="f-temperature", compact=True),
        )

    def value(self, name: str) -> str:
        return self.query_one(f"#f-{name}", Input).value

    def document_type(self) -> str:
        selected = self.query_one("#f-doc_type", Select).value
        return selected if isinstance(selected, str) else RESIDENT_ID

    def typed_temperature(self) -> float | None:
        value = parse_temperature(self.value("temperature"))
        if problem := temperature_problem(value):
            raise EntryInputError("temperature", problem)
        return value

    def show_error(self, field_name: str, text: str) -> None:
        self.query_one("#form-error", Static).update(shown(text))
        self.query_one("#submit", Button).disabled = False
        for widget in self.query(f"#f-{field_name}"):
            widget.focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#cancel")
    def cancelled(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#submit")
    @on(Input.Submitted)
    def submitted(self) -> None:
        try:
            make = self.entry()
        except EntryInputError as exc:
            self.show_error(exc.field, str(exc))
            return
        self.query_one("#form-error", Static).update(_("Logging…"))
        self.query_one("#submit", Button).disabled = True
        self.log_entry(make)

    def entry(self) -> Callable[[], Outcome]:
        """Read the form (raising EntryInputError for what can be checked here) and return the gate call."""
        raise NotImplementedError

    @work(thread=True, exclusive=True, exit_on_error=False, group="entries", name="entry")
    def log_entry(self, make: Callable[[], Outcome]) -> None:
        settle(make, self.origin, self.post_message)

    def on_verdict_ready(self, message: VerdictReady) -> None:
        message.stop()
        self.dismiss(message.outcome)

    def on_entry_rejected(self, message: EntryRejected) -> None:
        message.stop()
        self.show_error(message.field, message.text)

    def on_entry_failed(self, message: EntryFailed) -> None:
        message.stop()
        self.show_error("", _("NOT logged: {error}").format(error=message.error))


class ManualEntryScreen(EntryForm):
    """A person without a phone code, checked by their ID number: typed, or read from their ID card held to the
    camera (F2, or the gate's `c`), which fills the number and name for the keeper to compare and confirm."""

    TITLE_TEXT = N_("Manual entry: no phone code")
    origin = "manual"
    BINDINGS = [*EntryForm.BINDINGS, Binding("f2", "read_card", N_("Read ID card"))]

    def __init__(
        self,
        submit: ManualSubmit,
        document_types: tuple[str, ...],
        temperature: float | None,
        read_card: ReadCard | None = None,
        *,
        card_first: bool = False,
    ) -> None:
        super().__init__(document_types, temperature)
        self.submit = submit
        self.read_card = read_card
        self.card_first = card_first
        """Read the card held to the camera as soon as the form opens (the gate's `c`)."""

    def action_read_card(self) -> None:
        if self.read_card is None:
            return
        self.query_one("#form-error", Static).update(_("Reading the ID card held to the camera…"))
        self.card_worker()

    @work(thread=True, exclusive=True, exit_on_error=False, group="card", name="ID card")
    def card_worker(self) -> None:
        assert self.read_card is not None
        self.post_message(CardRead(self.read_card()))

    def on_card_read(self, message: CardRead) -> None:
        """Fill what was read, for the keeper to check against the card; nothing is logged until Enter."""
        reading = message.reading
        note = self.query_one("#form-error", Static)
        if reading is None:
            note.update(_("No camera picture to read a card from: type the number."))
            return
        if reading.check_digit_ok and reading.number is not None:
            self.query_one("#f-doc_type", Select).value = RESIDENT_ID
            self.query_one("#f-id_number", Input).value = reading.number
        if reading.name is not None:
            self.query_one("#f-name", Input).value = reading.name
        if problem := reading.problem:
            note.update(shown(problem))
            self.query_one("#f-name" if reading.check_digit_ok else "#f-id_number", Input).focus()
            return
        note.update(_("Read from the card: compare the number and name with it, then Enter logs the entry."))
        self.query_one("#f-name", Input).focus()

    def form_fields(self) -> ComposeResult:
        yield from field(
            _("Document"),
            Select(
                document_options(self.document_types),
                value=RESIDENT_ID,
                allow_blank=False,
                id="f-doc_type",
                compact=True,
            ),
        )
        yield from field(
            _("ID number"), Input(placeholder=_("as printed on the card"), max_length=40, id="f-id_number", compact=True)
        )
        yield from field(
            _("Name"), Input(placeholder=_("full name (shown masked)"), max_length=64, id="f-name", compact=True)
        )
        yield from self.temperature_field()

    def on_mount(self) -> None:
        self.query_one("#f-id_number", Input).focus()
        if self.card_first:
            self.action_read_card()

    def entry(self) -> Callable[[], Outcome]:
        id_number, name, doc_type = self.value("id_number"), self.value("name"), self.document_type()
        temperature = self.typed_temperature()
        return lambda: self.submit(id_number, name, doc_type, temperature)


CompanionSubmit = Callable[[str, str, str, float | None], Outcome]


class CompanionScreen(EntryForm):
    """Someone without a phone who came with the person just judged (a child, an elderly parent): their ID number
    (or "child without ID", where the policy allows) and name; they get an entry of their own, linked."""

    TITLE_TEXT = N_("Companion: with the person just judged")
    origin = "companion"

    def __init__(
        self,
        submit: CompanionSubmit,
        document_types: tuple[str, ...],
        temperature: float | None,
        came_with: str,
        child_under: int,
    ) -> None:
        super().__init__(document_types, temperature)
        self.submit = submit
        self.came_with = came_with
        """Who they came with, as the banner showed them (masked name and verdict)."""
        self.child_under = child_under

    def form_fields(self) -> ComposeResult:
        yield from field(_("With"), Static(shown(self.came_with), id="f-came_with"))
        options = document_options(self.document_types)
        if self.child_under:
            options.append((_("Child under {age}, no ID").format(age=self.child_under), CHILD_WITHOUT_ID))
        yield from field(_("Document"), Select(options, value=RESIDENT_ID, allow_blank=False, id="f-doc_type", compact=True))
        yield from field(
            _("ID number"), Input(placeholder=_("none for a child without ID"), max_length=40, id="f-id_number", compact=True)
        )
        yield from field(
            _("Name"), Input(placeholder=_("full name (shown masked)"), max_length=64, id="f-name", compact=True)
        )
        yield from self.temperature_field()

    def on_mount(self) -> None:
        self.query_one("#f-id_number", Input).focus()

    def entry(self) -> Callable[[], Outcome]:
        id_number, name, doc_type = self.value("id_number"), self.value("name"), self.document_type()
        temperature = self.typed_temperature()
        return lambda: self.submit(id_number, name, doc_type, temperature)


class VisitorScreen(EntryForm):
    """A visitor: who, how to reach them, whom they visit and why. Where the policy wants the host's confirmation
    (`host_phone` given), the household's phone from the roster is shown as it is typed, for the keeper to call,
    and the keeper ticks "host confirmed by phone" once the host has said yes."""

    TITLE_TEXT = N_("Visitor registration")
    origin = "visitor"

    def __init__(
        self,
        submit: VisitorSubmit,
        document_types: tuple[str, ...],
        temperature: float | None,
        host_phone: HostPhone | None = None,
    ) -> None:
        super().__init__(document_types, temperature)
        self.submit = submit
        self.host_phone = host_phone

    def form_fields(self) -> ComposeResult:
        yield from field(
            _("Name"), Input(placeholder=_("visitor's full name (shown masked)"), max_length=64, id="f-name", compact=True)
        )
        yield from field(_("Phone"), Input(placeholder=_("mobile number"), max_length=24, id="f-phone", compact=True))
        yield from field(
            _("Visiting"), Input(placeholder=_("household, e.g. 3-2-501"), max_length=64, id="f-household", compact=True)
        )
        if self.host_phone is not None:
            yield from field(_("Host's phone"), Static(_("type the household to see its phone"), id="f-host_phone"))
            yield from field(_("Host"), Checkbox(_("host confirmed by phone"), id="f-host_confirmed", compact=True))
        yield from field(
            _("Reason"), Input(placeholder=_("e.g. family visit, repair"), max_length=120, id="f-reason", compact=True)
        )
        yield from field(
            _("Document"),
            Select(
                document_options(self.document_types),
                value=RESIDENT_ID,
                allow_blank=False,
                id="f-doc_type",
                compact=True,
            ),
        )
        yield from field(
            _("ID number"),
            Input(placeholder=_("optional: finds an HQ pass"), max_length=40, id="f-id_number", compact=True),
        )
        yield from self.temperature_field()

    def on_mount(self) -> None:
        self.query_one("#f-name", Input).focus()

    @on(Input.Changed, "#f-household")
    def household_typed(self, event: Input.Changed) -> None:
        if self.host_phone is None:
            return
        household = " ".join(event.value.split())
        phone = self.host_phone(household) if household else None
        text = (
            _("type the household to see its phone") if not household
            else _("no phone on the roster for {household}").format(household=household) if phone is None
            else _("{phone}: call the host, then tick below").format(phone=phone)
        )
        self.query_one("#f-host_phone", Static).update(shown(text))

    def entry(self) -> Callable[[], Outcome]:
        visitor = Visitor(
            name=self.value("name"),
            phone=self.value("phone"),
            household=self.value("household"),
            reason=self.value("reason"),
            id_number=self.value("id_number"),
            doc_type=self.document_type(),
            host_confirmed=self.host_phone is not None and self.query_one("#f-host_confirmed", Checkbox).value,
        )
        temperature = self.typed_temperature()
        return lambda: self.submit(visitor, temperature)
