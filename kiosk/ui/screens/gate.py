"""The gate screen: camera preview, verdict banner, direction, temperature, shift counters and sync state.

A normal pass needs no key: the camera worker logs each code and posts its verdict. Every other action is one
key, listed in the footer and the command palette.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.events import DescendantFocus
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Label, Static
from textual.worker import get_current_worker

from kiosk.gate import EntryInputError, Outcome, Visitor
from sync.core.readings import temperature_problem
from kiosk.operators import Shift
from sync.core.policy import Decision, Direction
from kiosk.shift import ShiftTally
from kiosk.ui.errors import ShowsWorkerErrors
from kiosk.ui.banner import VerdictBanner
from kiosk.ui.status_bars import StatusLine, TopBar
from kiosk.ui.context import KioskContext
from kiosk.ui.typed_entries import parse_temperature, settle
from kiosk.ui.feed import CameraFeed
from kiosk.ui.messages import (
    CameraStatus,
    CodeIgnored,
    EntryFailed,
    EntryRejected,
    FramePreview,
    SyncStatusChanged,
    VerdictReady,
)
from kiosk.ui.preview import CameraPreview
from kiosk.ui.markup_safe import shown
from kiosk.ui.screens.entry_forms import ManualEntryScreen, VisitorScreen
from kiosk.ui.screens.handover import HandoverScreen
from kiosk.ui.screens.log import LogScreen
from kiosk.ui.screens.settings import SettingsScreen
from kiosk.ui.session import GateSession
from kiosk.uplink.status import SyncStatus


class GateScreen(ShowsWorkerErrors, Screen[None]):
    AUTO_FOCUS = ""  # nothing focused: a normal pass needs no key, and keys act on the gate at once
    BINDINGS = [
        Binding("d", "switch_direction", "In/Out", tooltip="Switch between entering and leaving", priority=True),
        Binding("m", "manual", "Manual", tooltip="Manual entry for a person without a phone code", priority=True),
        Binding("v", "visitor", "Visitor", tooltip="Register a visitor", priority=True),
        Binding("t", "temperature", "Temp", tooltip="Type a temperature for this or the next person", priority=True),
        Binding("l", "log", "Log", tooltip="Recent entries, search and CSV export", priority=True),
        Binding("s", "settings", "Setup", tooltip="Gate settings and list ages", priority=True),
        Binding("o", "sign_out", "Sign out", tooltip="Hand over: shift summary and sign out", priority=True),
        Binding("q", "app.quit", "Quit", tooltip="Quit the kiosk (ends the shift)", priority=True),
        Binding("escape", "clear_temperature", "Clear temp", show=False),
    ]

    def __init__(self, context: KioskContext, shift: Shift) -> None:
        super().__init__()
        self.context = context
        self.shift = shift
        self.session = GateSession(shift.operator.id)
        self.tally = ShiftTally()
        self.feed = CameraFeed(context, self.session, self.post_message)
        self._sync_read_at: datetime | None = None
        """When the sync status on show was read from the database."""
        self._clear_timer: Timer | None = None
        self._typing_for: Outcome | None = None
        """The verdict on show when the keeper started typing a temperature: the person it is meant for."""

    def compose(self) -> ComposeResult:
        yield TopBar(self.context.config.gate_id, self.shift.operator, self.context.demo, id="topbar")
        with Horizontal(id="main"):
            yield CameraPreview(self._preview_cells, id="preview")
            yield VerdictBanner(id="banner")
        with Horizontal(id="temperature-bar"):
            yield Label("Temperature °C (t)", id="temperature-label")
            yield Input(placeholder="--.-", restrict=r"[0-9.,]{0,5}", max_length=5, id="temperature")
            yield Static(id="temperature-note")
        yield Static(id="freshness-bar")
        yield StatusLine(id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.context.feeds.append(self.feed)
        self.query_one(TopBar).show_direction(self.session.direction)
        self.query_one(StatusLine).show_counts(self.tally)
        self.watch_camera()
        self.refresh_sync()
        self.set_interval(self.context.status_refresh_seconds, self.refresh_sync)
        for note in self.context.notes:
            self.notify(shown(note), severity="warning", timeout=10)

    def on_unmount(self) -> None:
        self.feed.stop()

    def on_screen_suspend(self) -> None:
        """A form or another screen now covers this one: the camera stops judging people the keeper cannot see."""
        self.session.set_scanning(False)

    def on_screen_resume(self) -> None:
        self.session.set_scanning(True)

    def _preview_cells(self, cells: tuple[int, int]) -> None:
        self.session.preview_cells = cells

    # -- workers -----------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="camera", name="camera")
    def watch_camera(self) -> None:
        worker = get_current_worker()
        self.feed.run(lambda: worker.is_cancelled)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sync-status", name="sync status")
    def refresh_sync(self) -> None:
        """Read the sync status from the gate database: entries waiting, and a sync run from the command line
        (whose new rules are put in force here, when the kiosk's own sync did not)."""
        self.context.refresh_rules(self._rules_problem)
        self.post_message(SyncStatusChanged(self.context.sync_status()))

    def _rules_problem(self, text: str) -> None:
        """For the status worker (`notify` is thread-safe): new rules in the database could not be put in force."""
        self.notify(shown(text), title="Sync", severity="error", timeout=30)

    # Not exclusive: every typed entry must finish (a thread cannot be interrupted mid-commit anyway).
    @work(thread=True, exit_on_error=False, group="entries", name="entry")
    def present(self, make: Callable[[], Outcome], origin: str) -> None:
        settle(make, origin, self.post_message)

    # -- what the workers report -------------------------------------------------------------------------

    def on_frame_preview(self, message: FramePreview) -> None:
        self.query_one(CameraPreview).show_frame(message.pixels, message.label)

    def on_camera_status(self, message: CameraStatus) -> None:
        self.query_one(CameraPreview).show_status(message.state, message.text)
        banner = self.query_one(VerdictBanner)
        banner.camera_live = message.state == "live"
        if banner.shown is None and self._clear_timer is None:
            banner.show_idle()

    def on_verdict_ready(self, message: VerdictReady) -> None:
        self.show_verdict(message.outcome, message.origin)

    def on_entry_failed(self, message: EntryFailed) -> None:
        self.query_one(VerdictBanner).show_failure(message.error)
        self.app.bell()
        self._restart_clear_timer()

    def on_entry_rejected(self, message: EntryRejected) -> None:
        self._temperature_note(message.text, problem=True)

    def on_code_ignored(self, message: CodeIgnored) -> None:
        if message.partial:
            self.notify("Part of a multi-part code was read: show the next part.", timeout=4)
            return
        self.notify(
            f"Ignored a QR code that is not a health code: {shown(message.text, limit=60)}",
            severity="warning",
            timeout=4,
        )

    def on_sync_status_changed(self, message: SyncStatusChanged) -> None:
        # The worker's report and the periodic read come from different threads: never go back in time.
        if self._sync_read_at is not None and message.status.checked_at < self._sync_read_at:
            return
        self._sync_read_at = message.status.checked_at
        self.query_one(StatusLine).show_sync(message.status)
        self._show_freshness(message.status)

    def _show_freshness(self, status: SyncStatus) -> None:
        """Lists or keys past their age are said on the gate screen itself, where the keeper looks, not only in
        the settings (an enrolled gate's: one without HQ has no age to judge)."""
        warning = self.context.rules.freshness_warning(
            lists_checked_at=status.bundle_checked_at, bundle_version=status.bundle_version, now=self.context.clock()
        )
        bar = self.query_one("#freshness-bar", Static)
        bar.update(Text("⚠ " + warning) if warning else "")
        bar.set_class(warning is not None, "-shown")

    def show_verdict(self, outcome: Outcome, origin: str) -> None:
        """Show a committed entry's verdict, count it, and ring the bell on a refusal."""
        if outcome.entry is None:
            return
        self.query_one(VerdictBanner).show_outcome(outcome, origin)
        self.tally.add(outcome.entry.row)
        self.query_one(StatusLine).show_counts(self.tally)
        if outcome.assessment.verdict.decision is Decision.REFUSE:
            self.app.bell()
        self._restart_clear_timer()
        self.context.entry_logged()
        self.refresh_sync()
        self._show_pending_temperature()

    def _restart_clear_timer(self) -> None:
        if self._clear_timer is not None:
            self._clear_timer.stop()
        self._clear_timer = self.set_timer(self.context.config.banner_seconds, self._clear_banner)

    def _clear_banner(self) -> None:
        self._clear_timer = None
        self.query_one(VerdictBanner).show_idle()
        self._show_pending_temperature()

    # -- keeper's actions --------------------------------------------------------------------------------

    def action_switch_direction(self) -> None:
        direction = self.session.switch_direction()
        self.query_one(TopBar).show_direction(direction)
        self.notify("Now checking people " + ("ENTERING" if direction is Direction.IN else "LEAVING"), timeout=2)

    def action_temperature(self) -> None:
        self.query_one("#temperature", Input).focus()

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        if event.widget.id == "temperature":
            self._typing_for = self.query_one(VerdictBanner).shown

    def action_clear_temperature(self) -> None:
        field = self.query_one("#temperature", Input)
        field.value = ""
        self.session.set_temperature(None)
        self._temperature_note("")
        self.set_focus(None)

    @on(Input.Submitted, "#temperature")
    def temperature_typed(self, event: Input.Submitted) -> None:
        try:
            value = parse_temperature(event.value)
        except EntryInputError as exc:
            self._temperature_note(str(exc), problem=True)
            return
        if value is not None and (problem := temperature_problem(value)):
            self._temperature_note(problem, problem=True)
            return
        if value is None:
            event.input.value = ""
            self.action_clear_temperature()
            return
        on_show = self.query_one(VerdictBanner).shown
        if on_show is not None and on_show is not self._typing_for:
            # Someone else was scanned while the keeper typed: do not guess whose temperature it is.
            self._typing_for = on_show
            self._temperature_note(
                f"Someone new was scanned while you typed: Enter gives {value:.1f} °C to them, Esc clears", problem=True
            )
            return
        target = self._typing_for  # the person it was typed for, even if their banner has cleared since
        event.input.value = ""
        self.set_focus(None)
        if target is not None and target.entry is not None and target.entry.row["temperature"] is None:
            self.session.set_temperature(None)
            self._temperature_note(f"Re-judging with {value:.1f} °C…")
            self.present(
                lambda: self.context.gate.retake_temperature(
                    target, value, operator=self.session.operator_id, now=self.context.clock()
                ),
                "temperature",
            )
            return
        self.session.set_temperature(value)
        self._show_pending_temperature()

    def _show_pending_temperature(self) -> None:
        pending = self.session.pending_temperature
        if pending is None:
            self._temperature_note("type it before or right after a scan")
        else:
            self._temperature_note(f"{pending:.1f} °C will be logged with the next person (Esc clears)")

    def _temperature_note(self, text: str, *, problem: bool = False) -> None:
        note = self.query_one("#temperature-note", Static)
        note.update(shown(text))
        note.set_class(problem, "-problem")

    def action_manual(self) -> None:
        def submit(id_number: str, name: str, doc_type: str, temperature: float | None) -> Outcome:
            return self.context.gate.present_manual(
                id_number,
                name,
                doc_type=doc_type,
                direction=self.session.direction,
                temperature=temperature,
                operator=self.session.operator_id,
                now=self.context.clock(),
            )

        self.app.push_screen(
            ManualEntryScreen(submit, self.context.config.document_types, self.session.pending_temperature),
            self._typed_entry_done("manual"),
        )

    def action_visitor(self) -> None:
        def submit(visitor: Visitor, temperature: float | None) -> Outcome:
            return self.context.gate.present_visitor(
                visitor,
                direction=self.session.direction,
                temperature=temperature,
                operator=self.session.operator_id,
                now=self.context.clock(),
            )

        self.app.push_screen(
            VisitorScreen(submit, self.context.config.document_types, self.session.pending_temperature),
            self._typed_entry_done("visitor"),
        )

    def _typed_entry_done(self, origin: str) -> Callable[[Outcome | None], None]:
        def done(outcome: Outcome | None) -> None:
            if outcome is None:
                return
            self.session.set_temperature(None)  # the form was pre-filled with it: it was this person's
            self.show_verdict(outcome, origin)

        return done

    def action_log(self) -> None:
        self.app.push_screen(LogScreen(self.context))

    def action_settings(self) -> None:
        self.app.push_screen(SettingsScreen(self.context))

    def action_sign_out(self) -> None:
        def closed(signed_out: bool | None) -> None:
            if signed_out:
                self.feed.stop()
                self.dismiss(None)

        self.app.push_screen(HandoverScreen(self.context, self.shift), closed)
