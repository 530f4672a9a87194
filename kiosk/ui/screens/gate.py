"""The gate screen: camera preview, verdict banner, direction, temperature, shift counters and sync state.

A normal pass needs no key: the camera worker logs each code and posts its verdict, and so does a hardware
QR scanner's read (the app recognises a keyboard-wedge burst and hands it here; see `scanner_read`). Every other action is one
key, listed in the footer and the command palette.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

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
from kiosk.incidents import is_incident, procedure_of
from kiosk.idcard import CardReading
from sync.core.readings import temperature_problem
from kiosk.operators import Shift
from sync.core.duty import DutyKind
from sync.core.policy import Direction
from sync.core.policy.rules.access import AccessRule
from sync.core.policy.rules.companions import CompanionRules
from kiosk.sound.cues import Cue
from kiosk.ui.words import speak_bindings
from kiosk.shift import ShiftTally
from kiosk.ui.errors import ShowsWorkerErrors
from kiosk.ui.banner import WORDS, VerdictBanner
from kiosk.uplink.status_text import bundle_news
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
from kiosk.ui.screens.entry_forms import CompanionScreen, ManualEntryScreen, VisitorScreen
from kiosk.ui.screens.handover import HandoverScreen
from kiosk.ui.screens.incident import IncidentScreen
from kiosk.ui.screens.log import LogScreen
from kiosk.ui.screens.presence import PresenceScreen
from kiosk.ui.screens.settings import SettingsScreen
from kiosk.ui.session import GateSession
from kiosk.uplink.status import SyncStatus
from sync.core.i18n import N_, _


MAX_HELD_SCANS = 5
"""Codes scanned while a form is open that are kept to be judged after it (a keeper scans one, not a queue)."""


class Tour(Protocol):
    """What follows the gate screen to work it by itself (the demo's tour)."""

    def verdict_shown(self, outcome: Outcome, origin: str) -> None: ...

    def frame_shown(self, label: str) -> None: ...


class GateScreen(ShowsWorkerErrors, Screen[None]):
    # The footer shows what fits at 80 columns; `c`, `a` and `p` are in the command palette (ctrl+p), the README,
    # and `c` also as F2 in the manual-entry form's footer.
    AUTO_FOCUS = ""  # nothing focused: a normal pass needs no key, and keys act on the gate at once
    BINDINGS = [
        Binding("d", "switch_direction", N_("In/Out"), tooltip=N_("Switch between entering and leaving"), priority=True),
        Binding("m", "manual", N_("Manual"), tooltip=N_("Manual entry for a person without a phone code"), priority=True),
        Binding("c", "id_card", N_("ID card"), tooltip=N_("Read a resident ID card held to the camera (no phone)"), priority=True, show=False),
        Binding("a", "companion", N_("Companion"), tooltip=N_("Add a person without a phone who came with the one just judged"), priority=True, show=False),
        Binding("v", "visitor", N_("Visitor"), tooltip=N_("Register a visitor"), priority=True),
        Binding("t", "temperature", N_("Temp"), tooltip=N_("Type a temperature for this or the next person"), priority=True),
        Binding("p", "presence", N_("Who is out"), tooltip=N_("Residents out now and since when, by household"), priority=True, show=False),
        Binding("l", "log", N_("Log"), tooltip=N_("Recent entries, search and CSV export"), priority=True),
        Binding("s", "settings", N_("Setup"), tooltip=N_("Gate settings and list ages"), priority=True),
        Binding("o", "sign_out", N_("Sign out"), tooltip=N_("Hand over: shift summary and sign out"), priority=True),
        Binding("q", "app.quit", N_("Quit"), tooltip=N_("Quit the kiosk (ends the shift)"), priority=True),
        Binding("escape", "clear_temperature", N_("Clear temp"), show=False),
    ]

    def __init__(self, context: KioskContext, shift: Shift) -> None:
        super().__init__()
        speak_bindings(self)
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
        self._companions_of: Outcome | None = None
        """The last person judged who is not a companion: `a` adds companions to them."""
        self._held_scans: list[str] = []
        """Codes a hardware scanner read while another screen covered this one: judged when it is back."""
        self.tour: Tour | None = None
        """The demo's tour (`kiosk.ui.screens.demo_tour`), told what this screen shows; None at a real gate."""

    def compose(self) -> ComposeResult:
        yield TopBar(self.context.config.gate_id, self.shift.operator, self.context.demo, id="topbar")
        with Horizontal(id="main"):
            yield CameraPreview(self._preview_cells, id="preview")
            yield VerdictBanner(id="banner")
        with Horizontal(id="temperature-bar"):
            yield Label(_("Temperature °C (t)"), id="temperature-label")
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
        held, self._held_scans = self._held_scans, []
        for text in held:
            self.judge_scanned(text)

    def scanner_read(self, text: str) -> None:
        """A code from a hardware scanner: judged now when the keeper can see the verdict, else held (like the
        camera, which judges nobody unseen) until this screen is back."""
        if self.app.screen is self:
            self.judge_scanned(text)
            return
        if len(self._held_scans) >= MAX_HELD_SCANS:
            self.notify(_("Too many codes scanned behind this screen: the oldest was dropped, not logged."), severity="warning")
            del self._held_scans[0]
        self._held_scans.append(text)
        self.notify(_("Code scanned: it is judged when you are back at the gate screen."), title=_("Scanner"), timeout=5)

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
        self.notify(shown(text), title=_("Sync"), severity="error", timeout=30)

    # Not exclusive: every scanned code is judged (the scan loop judges one at a time).
    @work(thread=True, exit_on_error=False, group="entries", name="scanner")
    def judge_scanned(self, text: str) -> None:
        self.feed.scanner_read(text)

    # Not exclusive: every typed entry must finish (a thread cannot be interrupted mid-commit anyway).
    @work(thread=True, exit_on_error=False, group="entries", name="entry")
    def present(self, make: Callable[[], Outcome], origin: str) -> None:
        settle(make, origin, self.post_message)

    # -- what the workers report -------------------------------------------------------------------------

    def on_frame_preview(self, message: FramePreview) -> None:
        self.query_one(CameraPreview).show_frame(message.pixels, message.label)
        if self.tour is not None:
            self.tour.frame_shown(message.label)

    def on_camera_status(self, message: CameraStatus) -> None:
        self.query_one(CameraPreview).show_status(message.state, message.text)
        self.context.note_duty(DutyKind.CAMERA_BACK if message.state == "live" else DutyKind.CAMERA_LOST, message.state)
        banner = self.query_one(VerdictBanner)
        banner.camera_live = message.state == "live"
        if banner.shown is None and self._clear_timer is None:
            banner.show_idle()

    def on_verdict_ready(self, message: VerdictReady) -> None:
        self.show_verdict(message.outcome, message.origin)

    def on_entry_failed(self, message: EntryFailed) -> None:
        self.query_one(VerdictBanner).show_failure(message.error)
        self.context.sound.play(Cue.NOT_LOGGED)
        self._restart_clear_timer()

    def on_entry_rejected(self, message: EntryRejected) -> None:
        self._temperature_note(message.text, problem=True)

    def on_code_ignored(self, message: CodeIgnored) -> None:
        if message.partial:
            self.notify(_("Part of a multi-part code was read: show the next part."), timeout=4)
            return
        self.notify(
            _("Ignored a QR code that is not a health code: {text}").format(text=shown(message.text, limit=60)),
            severity="warning",
            timeout=4,
        )

    def on_sync_status_changed(self, message: SyncStatusChanged) -> None:
        # The worker's report and the periodic read come from different threads: never go back in time.
        if self._sync_read_at is not None and message.status.checked_at < self._sync_read_at:
            return
        self._sync_read_at = message.status.checked_at
        self.query_one(StatusLine).show_sync(message.status)
        if news := bundle_news(message.status):  # said once, as it happens; the status line keeps it
            self.notify(news, title=_("HQ"), timeout=10)
        self._show_freshness(message.status)

    def _show_freshness(self, status: SyncStatus) -> None:
        """Lists or keys past their age are said on the gate screen itself, where the keeper looks, not only in
        the settings (an enrolled gate's: one without HQ has no age to judge)."""
        warning = self.context.rules.freshness_warning(
            lists_checked_at=status.bundle_checked_at, bundle_version=status.bundle_version, now=self.context.clock()
        )
        self.context.note_duty(DutyKind.LISTS_STALE if warning else DutyKind.LISTS_FRESH)
        bar = self.query_one("#freshness-bar", Static)
        bar.update(Text("⚠ " + warning) if warning else "")
        bar.set_class(warning is not None, "-shown")

    def show_verdict(self, outcome: Outcome, origin: str) -> None:
        """Show a committed entry's verdict, count it, and sound it (the player never holds up the screen)."""
        if outcome.entry is None:
            return
        self.query_one(VerdictBanner).show_outcome(outcome, origin)
        if origin != "companion":
            self._companions_of = outcome
        self.context.sound.play(Cue(outcome.assessment.verdict.decision.value))
        self.tally.add(outcome.entry.row)
        self.query_one(StatusLine).show_counts(self.tally)
        self._restart_clear_timer()
        self.context.entry_logged()
        self.refresh_sync()
        self._show_pending_temperature()
        if self.tour is not None:
            self.tour.verdict_shown(outcome, origin)
        if is_incident(outcome) and (procedure := procedure_of(self.context.store)) is not None:
            self.app.push_screen(IncidentScreen(self.context, outcome, procedure, self.session.operator_id))

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
        self.notify(
            _("Now checking people ENTERING") if direction is Direction.IN else _("Now checking people LEAVING"),
            timeout=2,
        )

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
                _("Someone new was scanned while you typed: Enter gives {celsius:.1f} °C to them, Esc clears").format(
                    celsius=value
                ),
                problem=True,
            )
            return
        target = self._typing_for  # the person it was typed for, even if their banner has cleared since
        event.input.value = ""
        self.set_focus(None)
        if target is not None and target.entry is not None and target.entry.row["temperature"] is None:
            self.session.set_temperature(None)
            self._temperature_note(_("Re-judging with {celsius:.1f} °C…").format(celsius=value))
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
            self._temperature_note(_("type it before or right after a scan"))
        else:
            self._temperature_note(_("{celsius:.1f} °C goes with the next person (Esc clears)").format(celsius=pending))

    def _temperature_note(self, text: str, *, problem: bool = False) -> None:
        note = self.query_one("#temperature-note", Static)
        note.update(shown(text))
        note.set_class(problem, "-problem")

    def action_id_card(self) -> None:
        self.action_manual(card_first=True)

    def _read_card(self) -> CardReading | None:
        """For the form's worker thread: OCR of the camera's newest frame, which is read in memory only."""
        frame = self.feed.latest
        return None if frame is None else self.context.card_reader.read(frame.image)

    def action_manual(self, card_first: bool = False) -> None:
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
            ManualEntryScreen(
                submit,
                self.context.config.document_types,
                self.session.pending_temperature,
                self._read_card,
                card_first=card_first,
            ),
            self._typed_entry_done("manual"),
        )

    def action_companion(self, adult: Outcome | None = None) -> None:
        """Add a companion to `adult`, else to the last person judged while their verdict is on show."""
        if adult is None and self.query_one(VerdictBanner).shown is not None:
            adult = self._companions_of
        if adult is None or adult.entry is None:
            self.notify(_("Companions are added right after the verdict of the person they came with."), timeout=4)
            return
        verdict = _(WORDS[adult.assessment.verdict.decision])
        came_with = f"{adult.entry.row['name'] or '-'} · {verdict}"

        def submit(id_number: str, name: str, doc_type: str, temperature: float | None) -> Outcome:
            return self.context.gate.present_companion(
                adult, id_number, name, doc_type=doc_type, temperature=temperature,
                operator=self.session.operator_id, now=self.context.clock(),
            )

        child_under = self.context.gate.policy.section(CompanionRules).child_without_id_under
        self.app.push_screen(
            CompanionScreen(submit, self.context.config.document_types, None, came_with, child_under),
            self._typed_entry_done("companion"),
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

        gate = self.context.gate
        host_phone = gate.household_phone if gate.policy.section(AccessRule).host_confirmation else None
        self.app.push_screen(
            VisitorScreen(submit, self.context.config.document_types, self.session.pending_temperature, host_phone),
            self._typed_entry_done("visitor"),
        )

    def _typed_entry_done(self, origin: str) -> Callable[[Outcome | None], None]:
        def done(outcome: Outcome | None) -> None:
            if outcome is None:
                return
            self.session.set_temperature(None)  # the form was pre-filled with it: it was this person's
            self.show_verdict(outcome, origin)

        return done

    def action_presence(self) -> None:
        self.app.push_screen(PresenceScreen(self.context))

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
