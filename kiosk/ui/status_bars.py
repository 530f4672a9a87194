"""The gate screen's top bar (gate, operator, direction) and status line (shift counters, sync)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from kiosk.operators import Operator
from sync.core.policy import Direction
from kiosk.shift import ShiftTally
from kiosk.ui.markup_safe import plain
from kiosk.ui.sync_status import describe, is_problem
from kiosk.uplink.status import SyncStatus
from kiosk.uplink.status_text import bundle_news
from sync.core.i18n import _


class TopBar(Horizontal):
    def __init__(self, gate_id: str, operator: Operator, demo: bool, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._gate_id = gate_id
        self._operator = operator
        self._demo = demo

    def compose(self) -> ComposeResult:
        yield Static(Text(_("POCKET GATE DEMO") if self._demo else _("POCKET GATE"), style="bold"), id="brand")
        yield Static(
            Text.assemble(
                plain(self._gate_id, limit=24), " · ", plain(self._operator.name, limit=24), f" ({self._operator.id})"
            ),
            id="who-is-on",
        )
        yield Static(id="direction")

    def show_direction(self, direction: Direction) -> None:
        widget = self.query_one("#direction", Static)
        entering = direction is Direction.IN
        widget.update(Text(_("▶ ENTERING") if entering else _("◀ LEAVING"), style="bold"))
        widget.set_class(entering, "-in")
        widget.set_class(not entering, "-out")


class StatusLine(Horizontal):
    def compose(self) -> ComposeResult:
        yield Static(id="counters")
        yield Static(id="sync-status")

    def show_counts(self, tally: ShiftTally) -> None:
        self.query_one("#counters", Static).update(
            Text(
                _("Let in {entered}  Left {left}  Refused {refused}  Held {held}").format(
                    entered=tally.entered, left=tally.left, refused=tally.refused, held=tally.held
                )
            )
        )

    news: str | None = None
    """The last change of HQ's lists put in force while the kiosk runs ('red/yellow list updated (v7), 10:14'),
    kept on the line until the next one."""

    def show_sync(self, status: SyncStatus) -> None:
        widget = self.query_one("#sync-status", Static)
        self.news = bundle_news(status) or self.news
        line = _("Sync: {status}").format(status=describe(status))
        widget.update(Text(f"{self.news} · {line}" if self.news else line))
        widget.set_class(is_problem(status), "-problem")
