"""Helpers shared by tests: valid ID numbers and the `pocket-hq` CLI run in-process."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import cv2
import numpy as np
import segno
from click.testing import CliRunner

from sync.core.identity import resident_id_check_digit
from sync.hq.cli import main as hq_main

IssueCode = Callable[..., str]


def make_resident_id(serial: int) -> str:
    """A well-formed 18-character resident ID (Beijing Dongcheng) with a correct check digit, different for every
    serial: the thousand serials from 1000 * n are people born on day n after 1990-01-01."""
    born = date(1990, 1, 1) + timedelta(days=serial // 1000)
    first17 = f"110101{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + resident_id_check_digit(first17)


def run_hq(*args: str) -> str:
    """Run `pocket-hq` in-process and return its standard output; fail the test on a non-zero exit."""
    result = CliRunner().invoke(hq_main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def qr_image(text: str | bytes, module_px: int = 6) -> np.ndarray:
    """A QR code as a greyscale image (white quiet zone included), made with segno like `pocket-hq issue --png`;
    bytes are encoded as they are (byte mode), for payloads no issuer of ours would make."""
    qr = segno.make(text, error="m")
    modules = np.array([[0 if dark else 255 for dark in row] for row in qr.matrix], dtype=np.uint8)
    modules = np.pad(modules, 4, constant_values=255)
    return np.kron(modules, np.ones((module_px, module_px), dtype=np.uint8))


def camera_frame(text: str | bytes | None, size: tuple[int, int] = (1280, 720), module_px: int = 6) -> np.ndarray:
    """A BGR frame like a webcam's: grey background with the code (if any) in the middle."""
    width, height = size
    frame = np.full((height, width, 3), 120, dtype=np.uint8)
    if text is not None:
        code = qr_image(text, module_px)
        y, x = (height - code.shape[0]) // 2, (width - code.shape[1]) // 2
        frame[y : y + code.shape[0], x : x + code.shape[1]] = code[:, :, None]
    return frame


def write_png(path: Path, image: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), image)
    return path
