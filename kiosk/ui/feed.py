"""The camera feed that runs in the gate screen's thread worker: the scan loop (`kiosk.scan_loop`, the one
`pocket-kiosk scan` runs) on the configured camera, with a preview and the keeper's session.

It opens the configured source, previews a few frames a second, and while the gate screen is on show has the
loop judge and commit each new code with the session's direction, pending temperature and keeper, posting the
verdict once it is committed. A missing or failing camera is reported and tried again every few seconds, so
plugging the webcam back in is all a keeper has to do; a file source that ends is reported once. It knows the
UI only through `post`. Codes from a hardware scanner (`scanner_read`) go through the same scan loop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import cv2
from textual.message import Message

from kiosk.camera import CaptureThread, Frame, SourceError, open_source
from kiosk.scan_loop import Presenting, ScanLoop, ScannedCode
from kiosk.ui.context import KioskContext
from kiosk.ui.messages import CameraStatus, CodeIgnored, EntryFailed, FramePreview, VerdictReady
from kiosk.ui.preview import thumbnail
from kiosk.ui.session import GateSession
from sync.core.i18n import _

# OpenCV reports a missing webcam on the terminal's stderr, which is the screen Textual draws on; the kiosk
# says so itself, in words.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


class CameraFeed:
    def __init__(self, context: KioskContext, session: GateSession, post: Callable[[Message], object]) -> None:
        self.context = context
        self.session = session
        self.post = post
        self._stop = threading.Event()
        self._done = threading.Event()
        self._capture: CaptureThread | None = None
        self._last_preview = 0.0
        self.latest: Frame | None = None
        """The newest frame from the camera, also while a form covers the gate (an ID card is read from it)."""
        self.loop = ScanLoop(context.gate, context.config.debounce_seconds)
        """The camera's scan loop; a hardware scanner's reads go through it too (`scanner_read`), debounced
        together with the camera's."""

    def stop(self) -> None:
        """Stop from any thread; the loop ends within half a second."""
        self._stop.set()
        capture = self._capture
        if capture is not None:
            capture.stop()

    def wait(self, timeout: float) -> bool:
        """Wait for the loop to have ended (after `stop`); True if it has."""
        return self._done.wait(timeout)

    def _wait(self, seconds: float, cancelled: Callable[[], bool]) -> None:
        deadline = time.monotonic() + seconds
        while not (self._stop.is_set() or cancelled()) and time.monotonic() < deadline:
            self._stop.wait(min(0.1, max(deadline - time.monotonic(), 0)))

    def run(self, cancelled: Callable[[], bool]) -> None:
        """Loop until stopped or cancelled (checked every frame and every tenth of a second while waiting)."""
        try:
            self._run(cancelled)
        finally:
            self._done.set()

    def _run(self, cancelled: Callable[[], bool]) -> None:
        spec = self.context.config.source
        retry = self.context.reconnect_seconds
        loop = self.loop

        def stopped() -> bool:
            return self._stop.is_set() or cancelled()

        while not stopped():
            try:
                source = open_source(spec, loop=self.context.loop_source)
            except SourceError as exc:
                self.post(CameraStatus("missing", _("No camera: {error}. Trying again every {seconds:g} s.").format(error=exc, seconds=retry)))
                self._wait(retry, cancelled)
                continue
            name = self.context.source_label or source.description
            capture = CaptureThread(source, min_interval=self.context.frame_interval).start()
            self._capture = capture
            if self._stop.is_set():  # stop() came before the capture was visible to it
                capture.stop()
                return
            self.post(CameraStatus("live", _("Camera: {name}").format(name=name)))
            try:
                for code in loop.run(
                    capture, self._presenting, stopped=stopped, each_frame=self._preview, judging=self._judging
                ):
                    self._report(code)
            finally:
                capture.stop()
                self._capture = None
            if stopped():
                return
            if capture.error is not None:
                self.post(CameraStatus("lost", _("Camera lost: {error}. Reconnecting every {seconds:g} s.").format(error=capture.error, seconds=retry)))
                self._wait(retry, cancelled)
                continue
            self.post(CameraStatus("ended", _("Camera source ended: {name} has no more frames.").format(name=name)))
            return

    def _preview(self, frame: Frame) -> None:
        self.latest = frame
        now = time.monotonic()
        if now - self._last_preview < 1 / self.context.preview_fps:
            return
        self._last_preview = now
        self.post(FramePreview(thumbnail(frame.image, self.session.preview_cells), frame.label))

    def _judging(self) -> bool:
        """A form or another screen covers the verdicts: judge nobody unseen."""
        return self.session.scanning

    def _presenting(self) -> Presenting:
        session = self.session
        return Presenting(session.direction, session.pending_temperature, session.operator_id, self.context.clock())

    def scanner_read(self, text: str) -> None:
        """Judge and commit a code a hardware scanner read, and report it as a camera read is reported (from a
        thread worker: the commit must not hold up the screen)."""
        code = self.loop.read(text, self._presenting)
        if code is not None:
            self._report(code)

    def _report(self, code: ScannedCode) -> None:
        if code.failure is not None:
            self.post(EntryFailed(str(code.failure)))
            return
        assert code.outcome is not None
        if code.outcome.entry is None:
            self.post(CodeIgnored(code.text, partial=code.outcome.assessment.code_type == "partial"))
            return
        if code.presenting.temperature is not None:
            self.session.consume_temperature(code.presenting.temperature)
        self.post(VerdictReady(code.outcome, "scanner" if code.frame is None else "scan", code.decoder))
