"""QR decoding on camera frames: zxing-cpp first, cheap image repairs only when it reads nothing.

Each decoder sits behind the one-method `Decoder` interface so the benchmark (bench/scan_bench.py) can run
every peer on the same frames. `Scanner` is what the gate uses: a first zxing-cpp pass on the grey frame
(about 1-2 ms at 1280x720), and only when that finds nothing, a short list of repairs (sharpening, a second
scale) each followed by another zxing-cpp pass. zbar stays available as a peer and as an optional last
resort, unused by default: after the repairs it adds under 1% of reads for 20-30 ms on every frame.
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


def _sharpen(gray: np.ndarray) -> np.ndarray:
    """Unsharp mask (sigma 2 px, amount 2): steepens the edges a defocused or slightly moving code has lost."""
    blurred = cv2.GaussianBlur(gray, (0, 0), 2.0)
    return cv2.addWeighted(gray, 3.0, blurred, -2.0, 0)


def _upscale(gray: np.ndarray) -> np.ndarray:
    """Twice the size, bicubic: zxing-cpp needs about two pixels per module, a far or tilted code has fewer."""
    return cv2.resize(gray, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)


def _sharpen_upscale(gray: np.ndarray) -> np.ndarray:
    """Both at once, sharpened first (a Gaussian on the 4x larger image would cost ten times more)."""
    return _upscale(_sharpen(gray))


Repair = tuple[str, Callable[[np.ndarray], np.ndarray]]
DEFAULT_REPAIRS: tuple[Repair, ...] = (
    ("sharpen", _sharpen),
    ("sharpen+upscale", _sharpen_upscale),
    ("upscale", _upscale),
)
"""Tried in this order, each followed by a zxing-cpp pass, only when everything before read nothing.

Chosen with bench/scan_bench.py (tuned on --seed 1 and 7, 350 frames each; checked on the default seed 2026,
420 frames), where the first pass alone reads 74-77% of the hard frames:
- sharpen (about 3 ms at 1280x720) reads 8-11% more of them, mostly out of focus or dim;
- sharpen+upscale (about 10 ms) another 4-5%: small codes, and blur on codes with few pixels per module;
- upscale (about 7 ms) another 2-3%: moire (the bicubic kernel smooths the screen's pixel grid), glare, tilt.
Together 89.7-92.0% over the three seeds, where zxing-cpp alone, the best peer, reads 74-77% and zbar 55%.
Measured and left out, because each added at most 1% of reads after these three while costing every frame with
no code in view 6-30 ms more: CLAHE local contrast (zxing-cpp's local binarizer already copes), zbar plain or
sharpened as a last resort (the benchmark prints what zbar would add: 2-3 frames of 420), a 9x9 Wiener
deconvolution kernel, a stronger or wider unsharp mask, a 3x scale, zxing-cpp's GlobalHistogram binarizer,
median or Gaussian denoising. Full-frame FFT Wiener deconvolution read as much as sharpening for 35 ms.
Frames with no code run all three: about 20-25 ms at 1280x720 (the benchmark prints it).
"""


@dataclass(frozen=True)
class ScanResult:
    texts: list[str]
    decoder: str
    """Which pass read it, e.g. 'zxing-cpp', 'zxing-cpp+sharpen'; '' when nothing was read."""


class Scanner:
    """Finds QR texts in a frame, trying harder only when the fast path reads nothing.

    `last_resort` is a different decoder run on the plain frame after every repair failed. None by default:
    on the benchmark's hard frames zbar adds under 1% of reads after the repairs (see DEFAULT_REPAIRS)."""

    def __init__(
        self,
        first: Decoder | None = None,
        repairs: tuple[Repair, ...] = DEFAULT_REPAIRS,
        last_resort: Decoder | None = None,
    ) -> None:
        self.first = first or ZxingDecoder()
        self.repairs = repairs
        self.last_resort = last_resort

    def scan(self, image: np.ndarray) -> ScanResult:
        gray = to_gray(image)
        texts = self.first.decode(gray)
        if texts:
            return ScanResult(_clean(texts), self.first.name)
        for name, repair in self.repairs:
            texts = self.first.decode(repair(gray))
            if texts:
                return ScanResult(_clean(texts), f"{self.first.name}+{name}")
        if self.last_resort is not None and (texts := self.last_resort.decode(gray)):
            return ScanResult(_clean(texts), self.last_resort.name)
        return ScanResult([], "")


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
