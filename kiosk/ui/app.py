"""The kiosk app: which screen comes when, worker errors made visible, and the command palette's actions.

Kept thin on purpose: the gate screen does the work, the domain (kiosk.gate and friends) does the judging.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace
from functools import partial

from textual import events
from textual.app import App, SystemCommand
from textual.screen import Screen
from textual.widgets import Input
from textual import work
from textual.worker import Worker, get_current_worker

from kiosk.key_bursts import Dropped, KeyBursts
from kiosk.operators import Operator, Shift
from sync.core.duty import DutyKind
from kiosk.serial_scanner import ScannerState, SerialScanner, serial_path
from kiosk.ui.context import KioskContext
from kiosk.ui.errors import ShowsWorkerErrors
from kiosk.ui.messages import SyncStatusChanged
from kiosk.ui.markup_safe import shown
from kiosk.ui.screens.demo_tour import DemoTour
from kiosk.ui.screens.gate import GateScreen
from kiosk.ui.screens.signin import SignInScreen
from kiosk.ui.scanner_keys import ScannerKeys
from kiosk.uplink.status import SyncStatus
from sync.core.i18n import _


class GateApp(ShowsWorkerErrors, App[None]):
    CSS_PATH = "kiosk.tcss"
    TITLE = "Pocket Gate"

    def __init__(self, context: KioskContext) -> None:
        super().__init__()
        self._say_palette_in_the_keepers_words()
        self.context = context
        self.shift: Shift | None = None
        clock = context.key_clock or time.monotonic
        bursts: KeyBursts[events.Key] = KeyBursts(clock, max_gap=context.config.scanner_key_gap_ms / 1000)
        self.scanner_keys = ScannerKeys(
            self,
            bursts,
            forward=self._typed,
            scanned=self.code_scanned,
            dropped=self._burst_dropped,
            keys_carry_time=context.key_clock is None,
        )

    async def on_event(self, event: events.Event) -> None:
        """Every key from the terminal goes through `scanner_keys` first: a scanner's burst is a scan on any
        screen, and never reaches a field or a key binding."""
        if isinstance(event, events.Key) and not event.is_forwarded:
            await self.scanner_keys.key(event)
            return
        await super().on_event(event)

    async def _typed(self, key: events.Key) -> None:
        """A key a person typed. Tab in a field moves on at once, before the keys typed after it are handed on:
        in a fast "li01<Tab>1111" the PIN goes to the PIN field (Textual's own Tab binding would move the focus
        only after the field had taken them)."""
        if key.key in ("tab", "shift+tab") and isinstance(self.focused, Input):
            if key.key == "tab":
                self.screen.focus_next()
            else:
                self.screen.focus_previous()
            return
        await super().on_event(key)

    def code_scanned(self, text: str) -> None:
        """A hardware scanner read a code: the gate screen judges it (or holds it while a form covers it); with
        nobody signed in it is not judged at all."""
        gates = [screen for screen in self.screen_stack if isinstance(screen, GateScreen)]
        if not gates:
            self.notify(_("Sign in first: the code just scanned was not judged or logged."), severity="warning", timeout=6)
            return
        gates[-1].scanner_read(text)

    def _burst_dropped(self, dropped: Dropped) -> None:
        self.notify(dropped.describe(), title=_("Scanner"), severity="warning", timeout=6)

    def _say_palette_in_the_keepers_words(self) -> None:
        """Textual adds the command palette's key to the footer with English words; give it the keeper's."""
        keys = self._bindings.key_to_bindings
        for key, bindings in keys.items():
            keys[key] = [replace(b, description=_("palette"), tooltip=_("Open the command palette"))
                         if b.action == "command_palette" else b for b in bindings]

    def on_mount(self) -> None:
        self.context.sound.on_problem = self._sound_problem
        self.context.sound.start()
        for problem in self.context.sound.status.problems:  # found at once (no player at all): said here
            self.notify(shown(problem), title=_("Sound"), severity="warning", timeout=10)
        if self.context.sync is not None:
            self.run_sync()
        if (port := serial_path(self.context.config.scanner)) is not None:
            self.read_serial_scanner(port)
        if self.context.signed_in is not None:
            self.start_shift(self.context.signed_in)
        else:
            self.ask_sign_in()

    def ask_sign_in(self) -> None:
        self.push_screen(SignInScreen(self.context), self.start_shift)

    def start_shift(self, operator: Operator | None) -> None:
        if operator is None:
            return
        self.shift = self.context.operators.start_shift(operator, now=self.context.clock())
        self.context.note_duty(DutyKind.SHIFT_ON, operator.id)
        gate = GateScreen(self.context, self.shift)
        if self.context.demo_tour:
            gate.tour = DemoTour(gate)
        self.push_screen(gate, self.shift_ended)

    def shift_ended(self, _: None = None) -> None:
        self.end_shift()
        self.ask_sign_in()

    def end_shift(self) -> None:
        if self.shift is not None:
            self.context.operators.end_shift(self.shift, now=self.context.clock())
            self.context.note_duty(DutyKind.SHIFT_OFF)
            self.shift = None

    async def action_quit(self) -> None:
        self.end_shift()
        self.exit()

    def worker_failed(self, worker: Worker[object]) -> None:
        """A worker raised something unexpected (see `errors.ShowsWorkerErrors`): say so on screen."""
        error = worker.error
        self.notify(
            _("{task} stopped: {error}").format(
                task=shown(worker.name or _("background task")), error=shown(f"{type(error).__name__}: {error}")
            ),
            title=_("Something went wrong"),
            severity="error",
            timeout=30,
        )
        if worker.group == "camera":
            self.context.note_duty(DutyKind.CAMERA_LOST, str(error)[:200])
            for screen in self.screen_stack:
                if isinstance(screen, GateScreen):
                    screen.query_one("#preview").show_status("lost", _("Camera stopped: {error}").format(error=error))  # type: ignore[attr-defined]

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The gate screen's keys, also in the command palette (ctrl+p): those in the footer and those that only fit
        here (each with its tooltip); on it, its own Quit (in the keeper's language, with its key) stands for
        Textual's, so the palette lists Quit once."""
        gate = isinstance(screen, GateScreen)
        for command in super().get_system_commands(screen):
            if not (gate and command.callback == self.action_quit):
                yield command
        if gate:
            for key, binding in screen._bindings:
                if binding.show or binding.tooltip:
                    yield SystemCommand(
                        _("{action} (key {key})").format(action=binding.description, key=key),
                        binding.tooltip,
                        partial(screen.run_action, binding.action),
                    )

    def _sound_problem(self, problem: str) -> None:
        """For the sound worker's thread: say once that the gate cannot sound as configured (the settings screen
        keeps saying it), and go on."""
        try:
            self.call_from_thread(self.notify, shown(problem), title=_("Sound"), severity="warning", timeout=10)
        except RuntimeError:  # the app is not running (yet, or any more): the settings screen still says it
            pass

    @work(thread=True, exclusive=True, exit_on_error=False, group="serial-scanner", name="serial scanner")
    def read_serial_scanner(self, port: str) -> None:
        """The serial QR scanner of kiosk.toml, for the whole run: each code goes where a keyboard-wedge
        scanner's burst goes (`code_scanned`); the scanner's state is said as it changes."""
        worker = get_current_worker()
        scanner = SerialScanner(port, reconnect_seconds=self.context.reconnect_seconds)
        for text in scanner.codes(lambda: worker.is_cancelled, self._serial_state):
            try:
                self.call_from_thread(self.code_scanned, text)
            except RuntimeError:  # the app is closing: the code is not judged, as after quitting
                return

    def _serial_state(self, state: ScannerState) -> None:
        """For the serial scanner's thread (`notify` is thread-safe)."""
        severity = "information" if state.state == "live" else "warning"
        self.notify(shown(state.text), title=_("Scanner"), severity=severity, timeout=6)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sync", name="sync")
    def run_sync(self) -> None:
        """The background sync with HQ, for the whole run (across shifts); it reports through `report_sync`."""
        worker = get_current_worker()
        self.context.run_sync(self.report_sync, self.sync_problem, lambda: worker.is_cancelled)

    def report_sync(self, status: SyncStatus) -> None:
        """For the background sync worker (any thread): show its latest status on the gate screen."""
        for screen in list(self.screen_stack):
            if isinstance(screen, GateScreen):
                screen.post_message(SyncStatusChanged(status))

    def sync_problem(self, text: str) -> None:
        """For the background sync worker (any thread; `notify` is thread-safe): something the keeper must
        report, such as HQ's new policy that this gate could not put in force."""
        self.notify(shown(text), title=_("Sync"), severity="error", timeout=30)
