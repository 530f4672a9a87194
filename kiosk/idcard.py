"""Reading a resident ID card (居民身份证) held to the webcam: the 18-character number and the name, by OCR, offline.

For a person without a phone the keeper holds their card to the camera; what is read fills the manual-entry form
for the keeper to compare with the card and confirm, so OCR only saves typing and never decides alone. The
number must pass its check digit (ISO 7064 MOD 11-2, `sync.core.identity`): a misread digit almost always fails
it and is reported as such, never passed on silently. The frame is only read in memory: nothing of the card is
stored, and only what the keeper confirms is logged, as a typed manual entry.

OCR is RapidOCR on ONNX Runtime with the PP-OCRv4 Chinese detection and recognition models its wheel ships (no
download, no network). The engine takes about a second to load, so it is loaded once, on first use.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sync.core.identity import RESIDENT_ID, document_problem
from sync.core.i18n import _

NUMBER = re.compile(r"(?<![0-9])([0-9]{17}[0-9X])(?![0-9X])")
NAME_LABEL = "姓名"
NUMBER_LABEL = "公民身份号码"
NAME = re.compile(r"^[\u3400-\u9fff·•]{2,15}$")
"""Two to fifteen Chinese characters, with the middle dot of minority and transcribed names."""
NOT_IN_NAMES = re.compile(r"[^\u3400-\u9fff·•]")
OTHER_LABELS = ("性别", "民族", "出生", "住址", NUMBER_LABEL)


@dataclass(frozen=True)
class CardReading:
    """What was read from one image. `number` is the 18 characters found (check digit good or not), `name` the
    name beside its label; `confidence` the OCR's lowest score of the two (0 when neither was found)."""

    number: str | None
    check_digit_ok: bool
    name: str | None
    confidence: float

    @property
    def problem(self) -> str | None:
        """Why the keeper cannot take this reading as it is (None: both fields read, number valid)."""
        if self.number is None:
            return _("No ID card number could be read: hold the card flat and closer, out of the glare.")
        if not self.check_digit_ok:
            return _("The number read ({number}) fails its check digit: hold the card again, or type it.").format(
                number=self.number
            )
        if self.name is None:
            return _("The name could not be read: type it from the card.")
        return None


@dataclass(frozen=True)
class _Line:
    text: str
    score: float
    x: float
    y: float
    height: float
    left: float
    right: float


def _lines(results: Sequence[Any] | None) -> list[_Line]:
    lines = []
    for box, text, score in results or ():
        points = np.asarray(box, dtype=float)
        xs, ys = points[:, 0], points[:, 1]
        cleaned = "".join(str(text).split()).replace("x", "X")
        lines.append(
            _Line(cleaned, float(score), float(xs.mean()), float(ys.mean()), float(np.ptp(ys)), float(xs.min()), float(xs.max()))
        )
    return lines


def _number(lines: list[_Line]) -> tuple[str | None, float]:
    """The 18 characters after the number's label or anywhere alone; one that passes its check digit first."""
    found: list[tuple[str, float]] = []
    for line in lines:
        for match in NUMBER.finditer(line.text.replace(NUMBER_LABEL, " ")):
            found.append((match.group(1), line.score))
    for number, score in found:
        if document_problem(number, RESIDENT_ID) is None:
            return number, score
    return found[0] if found else (None, 0.0)


def _name_in(text: str) -> str:
    """A name as printed: OCR's stray marks beside it (a dash for the card's edge, a colon) are no part of it."""
    return NOT_IN_NAMES.sub("", text).replace("•", "·")


def _name(lines: list[_Line]) -> tuple[str | None, float]:
    """The name: what follows the label 姓名 on its line, or the nearest line to its right on the same row."""
    for label in (line for line in lines if line.text.startswith(NAME_LABEL)):
        rest = _name_in(label.text[len(NAME_LABEL):])
        if NAME.match(rest):
            return rest, label.score
        beside = [
            line for line in lines
            if line is not label and abs(line.y - label.y) < max(label.height, line.height) * 0.6 and line.left >= label.x
        ]
        for line in sorted(beside, key=lambda line: line.left):
            if NAME.match(_name_in(line.text)) and not line.text.startswith(OTHER_LABELS):
                return _name_in(line.text), line.score
    return None, 0.0


def parse_card(results: Sequence[Any] | None) -> CardReading:
    """A reading from RapidOCR's results (box, text, score per line); separate from the OCR so it is testable."""
    lines = _lines(results)
    number, number_score = _number(lines)
    name, name_score = _name(lines)
    scores = [score for value, score in ((number, number_score), (name, name_score)) if value is not None]
    ok = number is not None and document_problem(number, RESIDENT_ID) is None
    return CardReading(number, ok, name, min(scores) if scores else 0.0)


class CardReader:
    """The OCR engine, loaded on first use and shared (one image read at a time: ONNX Runtime's session is used
    from whichever thread asks)."""

    def __init__(self) -> None:
        self._engine: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._engine is None:
            from rapidocr_onnxruntime import RapidOCR  # heavy: loaded when a card is first read

            self._engine = RapidOCR()
        return self._engine

    def read(self, image: np.ndarray) -> CardReading:
        """Read one BGR frame (a webcam's) or photo of the card."""
        with self._lock:
            engine = self._load()
            results, _elapsed = engine(image, use_cls=False)
        return parse_card(results)
