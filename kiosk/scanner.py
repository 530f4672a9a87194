"""QR decoding on camera frames: zxing-cpp first, cheap image repairs only when it reads nothing.

Each decoder sits behind the one-method `Decoder` interface so the benchmark (bench/scan_bench.py) can run
every peer on the same frames. `Scanner` is what the gate uses: a first zxing-cpp pass on the grey frame
(about 1-2 ms at 1280x720), and only when that finds nothing, a short list of repairs (local contrast,
sharpening, a second scale) each followed by another zxing-cpp pass, then zbar as a last different opinion.
`Debouncer` turns a code held in front of the camera into one scan.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
import zxingcpp
from pyzbar import pyzbar

MAX_TEXT_CHARS = 8192
"""Longer texts are cut here; no format we read is anywhere near, and the parser refuses them anyway."""


class Decoder(Protocol):
    name: str

    def decode(self, gray: np.ndarray) -> list[str]:
        """Every QR text found in a greyscale image (possibly none)."""
        ...


class ZxingDecoder:
    name = "zxing-cpp"

    def decode(self, gray: np.ndarray) -> list[str]:
        results = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
        return [r.text for r in results if r.valid]


class ZbarDecoder:
    name = "zbar"

    def decode(self, gray: np.ndarray) -> list[str]:
        # zbar hands back bytes; codes we read are ASCII, anything else is kept visible, never fatal.
        return [r.data.decode("utf-8", "replace") for r in pyzbar.decode(gray, symbols=[pyzbar.ZBarSymbol.QRCODE])]


class OpenCVDecoder:
    """OpenCV's own detector; not used by the gate, kept as a peer for the benchmark."""

    name = "opencv"

    def __init__(self) -> None:
        self._detector = cv2.QRCodeDetector()

    def decode(self, gray: np.ndarray) -> list[str]:
        ok, texts, _, _ = self._detector.detectAndDecodeMulti(gray)
        return [t for t in texts if t] if ok else []


def to_gray(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def _local_contrast(gray: np.ndarray) -> np.ndarray:
    return cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8)).apply(gray)


def _sharpen(gray: np.ndarray) -> np.ndarray:
    blurred = cv2.GaussianBlur(gray, (0, 0), 3)
    return cv2.addWeighted(gray, 2.0, blurred, -1.0, 0)


def _upscale(gray: np.ndarray) -> np.ndarray:
    return cv2.resize(gray, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)


Repair = tuple[str, Callable[[np.ndarray], np.ndarray]]
DEFAULT_REPAIRS: tuple[Repair, ...] = (
    ("contrast", _local_contrast),
    ("sharpen", _sharpen),
    ("upscale", _upscale),
)


@dataclass(frozen=True)
class ScanResult:
    texts: list[str]
    decoder: str
    """Which pass read it, e.g. 'zxing-cpp', 'zxing-cpp+sharpen', 'zbar'; '' when nothing was read."""


class Scanner:
    """Finds QR texts in a frame, trying harder only when the fast path reads nothing."""

    def __init__(
        self,
        first: Decoder | None = None,
        repairs: tuple[Repair, ...] = DEFAULT_REPAIRS,
        last_resort: Decoder | None = None,
    ) -> None:
        self.first = first or ZxingDecoder()
        self.repairs = repairs
        self.last_resort = last_resort if last_resort is not None else ZbarDecoder()

    def scan(self, image: np.ndarray) -> ScanResult:
        gray = to_gray(image)
        texts = self.first.decode(gray)
        if texts:
            return ScanResult(_clean(texts), self.first.name)
        for name, repair in self.repairs:
            texts = self.first.decode(repair(gray))
            if texts:
                return ScanResult(_clean(texts), f"{self.first.name}+{name}")
        texts = self.last_resort.decode(gray)
        return ScanResult(_clean(texts), self.last_resort.name if texts else "")


def _clean(texts: list[str]) -> list[str]:
    """Distinct texts in the order found, each bounded in length."""
    return list(dict.fromkeys(t[:MAX_TEXT_CHARS] for t in texts))


class Debouncer:
    """A code that stays in view, or comes back within `window` seconds, is one scan.

    Every sighting refreshes the code's time, so a phone held up for a minute is still one entry; the code
    must be out of view for `window` seconds before it counts again."""

    def __init__(self, window: float, clock: Callable[[], float] = time.monotonic, max_remembered: int = 256) -> None:
        self.window = window
        self.clock = clock
        self.max_remembered = max_remembered
        self._last_seen: dict[str, float] = {}

    def is_new(self, text: str) -> bool:
        now = self.clock()
        self._last_seen = {t: seen for t, seen in self._last_seen.items() if now - seen < self.window}
        new = text not in self._last_seen
        self._last_seen[text] = now
        if len(self._last_seen) > self.max_remembered:
            oldest = min(self._last_seen, key=self._last_seen.__getitem__)
            del self._last_seen[oldest]
        return new
