"""Who is out: the residents whose last passage through this gate was out, and since when, by household.

In closed management the keeper (and the household's neighbours) must know who is out; it is read from the
entry log in a thread worker, each resident's last passage (an entry that passed), and the roster's `unit`.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from kiosk.keeper_locale import local_time
from kiosk.ui.context import KioskContext
from kiosk.ui.errors import ShowsWorkerErrors
from kiosk.ui.markup_safe import plain
from kiosk.ui.words import speak_bindings
from sync.core.i18n import N_, _, ngettext


class OutLoaded(Message):
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__()
        self.rows = rows


class PresenceScreen(ShowsWorkerErrors, Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", N_("Back")), Binding("r", "reload", N_("Refresh"))]

    def __init__(self, context: KioskContext) -> None:
        super().__init__()
        speak_bindings(self)
        self.context = context

    def compose(self) -> ComposeResult:
        yield Label(_("Who is out now (residents whose last passage was out)"), classes="form-title")
        yield Static(_("Reading the log…"), id="presence-summary")
        yield DataTable(id="presence-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column(_("Household"), width=12)
        table.add_column(_("Name"), width=12)
        table.add_column(_("Out since"), width=16)
        self.action_reload()

    def action_reload(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="presence", name="who is out")
    def load(self) -> None:
        self.post_message(OutLoaded(self.context.store.residents_out()))

    def on_out_loaded(self, message: OutLoaded) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for row in message.rows:
            table.add_row(plain(row["unit"], limit=20), plain(row["name"], limit=30), Text(local_time(row["ts"], "%m-%d %H:%M")))
        households = len({row["unit"] for row in message.rows})
        people = ngettext("{count} resident out", "{count} residents out", len(message.rows)).format(count=len(message.rows))
        self.query_one("#presence-summary", Static).update(
            ngettext("{people}, from {count} household", "{people}, from {count} households", households).format(
                people=people, count=households
            )
        )
