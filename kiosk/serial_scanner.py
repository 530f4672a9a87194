"""Serial QR scanners (USB CDC-ACM, `/dev/ttyACM0`): each code arrives as one line, read with pyserial.

`scanner = "serial:/dev/ttyACM0"` in kiosk.toml (or `pocket-kiosk scan --source serial:PATH`). The port is
opened and read in a thread; a scanner that is missing or unplugged is reported and opened again every
`reconnect_seconds`, so plugging it back in is all a keeper has to do. A line is one code (CR, LF or both end
it). What is not a whole code is dropped and reported, never judged: a line longer than any QR code (a
scanner repeating itself), or a code cut short because the scanner stopped mid-line or was unplugged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import serial

from kiosk.key_bursts import MAX_CHARS, Dropped
from sync.core.i18n import _

SERIAL_PREFIX = "serial:"
READ_TIMEOUT_SECONDS = 0.2
"""How long one read waits: `stopped()` is checked at least this often."""


def serial_path(spec: str | None) -> str | None:
    """The port named by a `serial:PATH` source, or None when the source is something else."""
    if spec is not None and spec.startswith(SERIAL_PREFIX) and spec[len(SERIAL_PREFIX):].strip():
        return spec[len(SERIAL_PREFIX):].strip()
    return None


@dataclass(frozen=True)
class ScannerState:
    """What the keeper is told: `live` (opened), `missing` (cannot be opened), `lost` (unplugged while open),
    `dropped` (part of a code or a flood, not judged); `text` says it in the keeper's words."""

    state: str
    text: str


class SerialScanner:
    def __init__(
        self,
        path: str,
        *,
        reconnect_seconds: float = 2.0,
        partial_seconds: float = 1.0,
        max_chars: int = MAX_CHARS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.reconnect_seconds = reconnect_seconds
        self.partial_seconds = partial_seconds
        """A line left without its end this long after its last byte is half a code, dropped."""
        self.max_chars = max_chars
        self.clock = clock

    def codes(self, stopped: Callable[[], bool], report: Callable[[ScannerState], None]) -> Iterator[str]:
        """Each code read, until `stopped()`; states are reported as they change. Never raises for the port."""
        while not stopped():
            try:
                port = serial.serial_for_url(self.path, timeout=READ_TIMEOUT_SECONDS)
            except (serial.SerialException, OSError, ValueError) as exc:
                report(ScannerState("missing", _("No QR scanner at {path} ({error}). Trying again every {seconds:g} s.").format(path=self.path, error=exc, seconds=self.reconnect_seconds)))
                self._wait(stopped)
                continue
            report(ScannerState("live", _("QR scanner: {path}").format(path=self.path)))
            try:
                yield from self._lines(port, stopped, report)
            except (serial.SerialException, OSError) as exc:
                report(ScannerState("lost", _("QR scanner lost ({error}). Reconnecting every {seconds:g} s.").format(error=exc, seconds=self.reconnect_seconds)))
                self._wait(stopped)
            finally:
                port.close()

    def _wait(self, stopped: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.reconnect_seconds
        while not stopped() and time.monotonic() < deadline:
            time.sleep(min(0.1, max(deadline - time.monotonic(), 0)))

    def _lines(
        self, port: serial.SerialBase, stopped: Callable[[], bool], report: Callable[[ScannerState], None]
    ) -> Iterator[str]:
        line = bytearray()
        flood = 0
        """Bytes of an overlong line dropped so far (0: none)."""
        last_byte = self.clock()
        try:
            while not stopped():
                chunk = port.read(max(1, port.in_waiting))
                now = self.clock()
                if not chunk:
                    if (line or flood) and now - last_byte > self.partial_seconds:
                        report(self._dropped(Dropped(flood or len(line), flood=bool(flood))))
                        line.clear()
                        flood = 0
                    continue
                last_byte = now
                for byte in chunk:
                    if byte in b"\r\n":
                        if flood:
                            report(self._dropped(Dropped(flood, flood=True)))
                        elif line:
                            yield line.decode("utf-8", errors="replace")
                        line.clear()
                        flood = 0
                    elif flood:
                        flood += 1
                    else:
                        line.append(byte)
                        if len(line) > self.max_chars:
                            flood = len(line)
                            line.clear()
        finally:
            if line or flood:
                report(self._dropped(Dropped(flood or len(line), flood=bool(flood))))

    @staticmethod
    def _dropped(dropped: Dropped) -> ScannerState:
        return ScannerState("dropped", dropped.describe())
