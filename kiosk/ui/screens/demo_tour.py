"""The demo's tour of the field flows (`pocket-kiosk --demo`): besides the sample codes its camera plays, the demo
works the gate once as a keeper would, each step announced, so the flows show with no scanner, card or typing:

1. after the first code that passes (a resident entering), a child without a phone is added as a companion;
2. when the ID card frame is in front of the camera, `c` reads it into the manual form, which is confirmed (a
   reading that failed, the frame having moved on, is cancelled and tried on the card's next round);
3. then the courier leaves through a USB QR scanner: the code's text arrives as a keyboard-wedge burst, through
   the same recogniser as a real scanner's keys (`kiosk.key_bursts`), while the gate is set to leaving (and back
   to entering as soon as the verdict shows, so the camera's next codes are people coming in).

The second entry without leaving shows by itself when the codes come round again (`[presence]`: the resident,
who never left, is held; the courier, who left, passes). Each step acts only when the gate screen is on top (a
keeper pressing keys in the demo keeps the screen they opened; the step waits for its next chance), and each is
done once; a form the tour opened that is not filled within `FORM_TIMEOUT_SECONDS` is cancelled.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import cv2
from textual import events
from textual.keys import _character_to_key
from textual.widgets import Input, Select

from kiosk.demo import FRAMES, manifest, people
from kiosk.gate import CHILD_WITHOUT_ID, Outcome
from kiosk.scanner import Scanner
from kiosk.ui.screens.entry_forms import CompanionScreen, EntryForm, ManualEntryScreen
from sync.core.i18n import _
from sync.core.policy import Decision, Direction

if TYPE_CHECKING:
    from kiosk.ui.screens.gate import GateScreen

STEP_PAUSE_SECONDS = 1.5
"""How long the tour leaves each thing on screen before its next move."""
FORM_TIMEOUT_SECONDS = 30.0
"""How long a form the tour opened may take to fill (the ID card's OCR loads on the first card)."""
MAX_WAITS = 200
"""How many times a step waits for the gate screen to be on top again before it is left out (five minutes)."""
COMPANION_NAME = "Zhang Xiaobao"
SCANNER_KEY_SECONDS = 0.002
"""The time between the keys of the tour's USB scanner (real ones take 1-20 ms a key)."""


class DemoTour:
    """Follows one gate screen (told each verdict and each camera frame) and works it by itself, step by step."""

    def __init__(self, screen: GateScreen) -> None:
        self.screen = screen
        self.done: set[str] = set()
        self.card_file = str(manifest()["id_card"]["file"])
        self._waited = 0.0
        self._read_ended = False
        self._scanner_tries = 0

    def _free(self) -> bool:
        return self.screen.app.screen is self.screen

    # -- what the gate screen tells the tour --------------------------------------------------------------

    def verdict_shown(self, outcome: Outcome, origin: str) -> None:
        passed = outcome.entry is not None and outcome.assessment.verdict.decision is Decision.PASS
        if "companion" not in self.done and passed and origin == "scan" and outcome.entry.row["direction"] == "in":
            self.done.add("companion")
            self.screen.call_later(self._add_companion, outcome)
        elif origin == "manual" and "id_card" in self.done and "scanner" not in self.done:
            self.done.add("scanner")
            self.screen.set_timer(self.screen.context.config.banner_seconds, self._scanner_leaving)
        elif origin == "scanner" and self.screen.session.direction is Direction.OUT:
            self.screen.action_switch_direction()

    def frame_shown(self, label: str) -> None:
        if "id_card" not in self.done and label == self.card_file and self._free():
            self.done.add("id_card")
            self.screen.notify(_("Demo: someone without a phone holds up a resident ID card; c reads it"), timeout=6)
            self.screen.action_id_card()
            self._waited, self._read_ended = 0.0, False
            self.screen.set_timer(STEP_PAUSE_SECONDS, self._confirm_card)

    # -- the steps ---------------------------------------------------------------------------------------

    def _add_companion(self, adult: Outcome) -> None:
        if not self._free():
            self.done.discard("companion")
            return
        self.screen.notify(_("Demo: a child without a phone came with them; a adds a companion"), timeout=6)
        self.screen.action_companion(adult)
        self.screen.set_timer(STEP_PAUSE_SECONDS, self._fill_companion)

    def _fill_companion(self) -> None:
        form = self.screen.app.screen
        if not isinstance(form, CompanionScreen):
            return
        form.query_one("#f-doc_type", Select).value = CHILD_WITHOUT_ID
        form.query_one("#f-name", Input).value = COMPANION_NAME
        self.screen.set_timer(STEP_PAUSE_SECONDS, lambda: self._submit(form))

    def _confirm_card(self) -> None:
        form = self.screen.app.screen
        if not isinstance(form, ManualEntryScreen):
            return
        reading = any(worker.name == "ID card" and not worker.is_finished for worker in form.workers)
        if len(form.value("id_number")) == 18 and form.value("name"):
            self.screen.set_timer(STEP_PAUSE_SECONDS, lambda: self._submit(form))
        elif (not reading and self._read_ended) or self._waited >= FORM_TIMEOUT_SECONDS:
            form.action_cancel()
            self.done.discard("id_card")
        else:
            self._read_ended = not reading and self._waited > 0  # its result may still be on its way: look again
            self._waited += STEP_PAUSE_SECONDS
            self.screen.set_timer(STEP_PAUSE_SECONDS, self._confirm_card)

    def _submit(self, form: EntryForm) -> None:
        if self.screen.app.screen is form:
            form.submitted()

    async def _scanner_leaving(self) -> None:
        if not self._free():
            self._scanner_tries += 1
            if self._scanner_tries < MAX_WAITS:
                self.screen.set_timer(STEP_PAUSE_SECONDS, self._scanner_leaving)
            return
        courier = next(p for p in people() if p.expect == "pass" and p.reason == "courier pass")
        (text,) = Scanner().scan(cv2.imread(str(FRAMES / courier.file))).texts
        if self.screen.session.direction is Direction.IN:
            self.screen.action_switch_direction()
        self.screen.notify(_("Demo: the courier leaves; a USB QR scanner types their code"), timeout=6)
        keys = [events.Key(c if c.isalnum() and c.isascii() else _character_to_key(c), c) for c in text]
        start = time.monotonic()
        for number, key in enumerate([*keys, events.Key("enter", "\r")]):
            key.time = start + number * SCANNER_KEY_SECONDS  # pressed at a scanner's pace, however busy the app is
            await self.screen.app.scanner_keys.key(key)  # type: ignore[attr-defined]
        self.screen.set_timer(self.screen.context.config.banner_seconds + STEP_PAUSE_SECONDS, self._entering_again)

    def _entering_again(self) -> None:
        """The gate back to entering after the courier's step, whatever became of it (the verdict usually does it)."""
        if self.screen.session.direction is Direction.OUT:
            self.screen.action_switch_direction()
