"""The scan loop: camera frames in, committed verdicts out. The kiosk's camera feed and `pocket-kiosk scan` both
run it, so a code is read, debounced, judged and logged the same way whichever of them is at the gate.

A hardware QR scanner hands over a code's text (`read`), which is judged the same way, debounced with the
camera's reads. For each frame the scanner reads every code in it; a code seen again within the debounce window is the same
scan and is dropped; each new one is judged and committed by the gate (`Gate.present_code`) with what the gate
is presenting at that moment (direction, a temperature taken, the keeper on duty), before it is reported. A
failure to commit is reported for that code, and the loop goes on with the next.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from kiosk.camera import CaptureThread, Frame
from kiosk.gate import Gate, Outcome
from kiosk.scanner import Debouncer, Scanner
from kiosk.store import StoreError
from sync.core.policy import Direction


@dataclass(frozen=True)
class Presenting:
    """How the gate presents the next code: which way people go, a temperature taken for it, who is on duty."""

    direction: Direction
    temperature: float | None = None
    operator: str = ""
    now: datetime | None = None
    """The moment judged (None: the wall clock's)."""


@dataclass(frozen=True)
class ScannedCode:
    """One new code, from a frame or a hardware scanner: judged and committed (`outcome`), or not committed
    (`failure`)."""

    frame: Frame | None
    """The frame it was read in (None: a hardware scanner handed over the text)."""
    text: str
    decoder: str
    """Which decoder read it (for reports and diagnosis); "scanner" for a hardware scanner."""
    presenting: Presenting
    outcome: Outcome | None = None
    failure: StoreError | None = None


class ScanLoop:
    """Reads codes from frames and has the gate judge and commit each new one (see the module docstring)."""

    def __init__(self, gate: Gate, debounce_seconds: float) -> None:
        self.gate = gate
        self.scanner = Scanner()
        self.debouncer = Debouncer(debounce_seconds)
        self.frames = 0
        """Frames read so far."""
        self._lock = threading.Lock()
        """One code judged at a time: a hardware scanner's reads may come from more than one thread."""

    def run(
        self,
        capture: CaptureThread,
        presenting: Callable[[], Presenting],
        *,
        stopped: Callable[[], bool] = lambda: False,
        each_frame: Callable[[Frame], None] = lambda frame: None,
        judging: Callable[[], bool] = lambda: True,
    ) -> Iterator[ScannedCode]:
        """Every new code of every frame the capture delivers, until it ends or `stopped()` (checked before each
        frame). `each_frame` sees every frame first (a preview); while `judging()` is false frames are not
        decoded, so nobody is judged where the verdict cannot be seen."""
        for frame in capture.frames():
            if stopped():
                return
            self.frames += 1
            each_frame(frame)
            if judging():
                yield from self.codes_in(frame, presenting)

    def codes_in(self, frame: Frame, presenting: Callable[[], Presenting]) -> Iterator[ScannedCode]:
        """The new codes of one frame, each judged and committed before it is yielded."""
        result = self.scanner.scan(frame.image)
        for text in result.texts:
            code = self._judge(text, presenting, frame, result.decoder, "camera")
            if code is not None:
                yield code

    def read(self, text: str, presenting: Callable[[], Presenting]) -> ScannedCode | None:
        """A code a hardware scanner read (its whole text), judged and committed exactly as a camera read, with
        `scanner` as its source; None when it repeats a code just judged (the trigger pressed twice)."""
        return self._judge(text, presenting, None, "scanner", "scanner")

    def _judge(
        self, text: str, presenting: Callable[[], Presenting], frame: Frame | None, decoder: str, source: str
    ) -> ScannedCode | None:
        with self._lock:
            if not self.debouncer.is_new(text):
                return None
            how = presenting()
            try:
                outcome = self.gate.present_code(
                    text,
                    direction=how.direction,
                    temperature=how.temperature,
                    operator=how.operator,
                    now=how.now,
                    source=source,
                )
            except StoreError as exc:
                return ScannedCode(frame, text, decoder, how, failure=exc)
            return ScannedCode(frame, text, decoder, how, outcome=outcome)
