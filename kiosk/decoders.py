"""The QR decoders behind one small interface: zxing-cpp (the gate's), zbar and OpenCV (peers for the benchmark,
zbar also an optional last resort). zxing-cpp also reports symbols it located but could not decode, which is
what tells the Scanner where a repair is worth trying.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
import zxingcpp
from pyzbar import pyzbar


class Decoder(Protocol):
    name: str

    def decode(self, gray: np.ndarray) -> list[str]:
        """Every QR text found in a greyscale image (possibly none)."""
        ...


@dataclass(frozen=True)
class Located:
    """A QR-family symbol zxing-cpp found in an image but could not decode."""

    corners: np.ndarray
    """Four (x, y) corners in image pixels, float32, shape (4, 2)."""
    module: float
    """Size of one module in image pixels along the symbol's finer axis, from its sides and its version."""
    whole: bool
    """True when the corners frame a whole QR code. False for a Micro QR or rMQR guess, which in a camera frame
    is almost always one finder pattern of a larger QR code that lies somewhere around it."""
    modules: int = 0
    """Modules along a side of a whole QR code (17 + 4 x its version); 0 for a guess."""

    def to_frame(self, scale: float, x0: float = 0.0, y0: float = 0.0) -> Located:
        """The same symbol in frame pixels, when it was located in an image `scale` times the frame (or a crop
        of it starting at x0, y0)."""
        return Located(self.corners / scale + np.float32([x0, y0]), self.module / scale, self.whole, self.modules)


class ZxingDecoder:
    name = "zxing-cpp"

    def decode(self, gray: np.ndarray) -> list[str]:
        return self.locate(gray)[0]

    def locate(self, gray: np.ndarray) -> tuple[list[str], list[Located]]:
        """The texts zxing-cpp reads, and the symbols it located but failed to decode (same cost as `decode`)."""
        results = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode, return_errors=True)
        texts = [r.text for r in results if r.valid]
        located = [symbol for r in results if not r.valid and (symbol := _located(r)) is not None]
        return texts, located


def _located(result: zxingcpp.Barcode) -> Located | None:
    """What a failed zxing-cpp result tells about where a code is, or None when it tells nothing usable."""
    position = result.position
    corners = np.float32(
        [(p.x, p.y) for p in (position.top_left, position.top_right, position.bottom_right, position.bottom_left)]
    )
    extra = getattr(result, "extra", None)
    version = str(extra.get("Version", "")) if isinstance(extra, dict) else ""
    if not corners.any():
        return None
    if version.isdigit():  # QR Code, model 1 or 2
        rows = columns = 17 + 4 * int(version)
        whole = True
    elif match := re.fullmatch(r"M([1-4])", version):  # Micro QR: its one finder pattern, usually a QR's
        rows = columns = 9 + 2 * int(match.group(1))
        whole = False
    elif match := re.fullmatch(r"R(\d+)x(\d+)", version):  # rMQR: a finder pattern and a guessed strip
        rows, columns = int(match.group(1)), int(match.group(2))
        whole = False
    else:
        return None
    sides = np.linalg.norm(corners - np.roll(corners, -1, axis=0), axis=1)  # top, right, bottom, left
    # The finer axis: a tilted code is foreshortened along one axis, and that one must reach the pixels it needs.
    module = float(min((sides[0] + sides[2]) / (2 * columns), (sides[1] + sides[3]) / (2 * rows)))
    return Located(corners, module, whole, rows if whole else 0) if module > 0 else None


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
