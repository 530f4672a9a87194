"""The camera preview: a low-resolution picture of the newest frame drawn with half-block characters.

Each terminal cell shows two pixels, the upper one as the foreground colour of '▀' and the lower one as the
background, so a 32x12-cell preview is a 32x24-pixel picture. The camera thread shrinks the frame
(`thumbnail`, a fraction of a millisecond) a few times a second; the widget only turns those few hundred
pixels into styled segments, so the preview never slows the decoder.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Container
from textual.events import Resize
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from kiosk.ui.markup_safe import plain
from sync.core.i18n import _

HALF_BLOCK = "▀"


def thumbnail(image: np.ndarray, cells: tuple[int, int]) -> np.ndarray:
    """`image` (BGR or grey) shrunk to fit `cells` (columns, rows) at two pixels per row, as RGB."""
    columns, rows = max(cells[0], 1), max(cells[1], 1)
    height, width = image.shape[:2]
    scale = min(columns / width, 2 * rows / height)
    target_w = max(1, int(width * scale))
    target_h = max(2, int(height * scale))
    target_h -= target_h % 2
    small = cv2.resize(image, (target_w, target_h), interpolation=cv2.INTER_AREA)
    if small.ndim == 2:
        return cv2.cvtColor(small, cv2.COLOR_GRAY2RGB)
    return cv2.cvtColor(small, cv2.COLOR_BGR2RGB)


def half_block_rows(pixels: np.ndarray) -> list[list[Segment]]:
    """One list of segments per terminal row: the upper pixel as foreground, the lower as background."""
    rows: list[list[Segment]] = []
    for y in range(0, pixels.shape[0] - 1, 2):
        upper, lower = pixels[y], pixels[y + 1]
        rows.append(
            [
                Segment(
                    HALF_BLOCK,
                    Style(color=Color.from_rgb(*map(int, top)), bgcolor=Color.from_rgb(*map(int, bottom))),
                )
                for top, bottom in zip(upper, lower, strict=True)
            ]
        )
    return rows


class FrameView(Widget):
    """Draws the newest thumbnail centred in the widget."""

    def __init__(self, on_cells: Callable[[tuple[int, int]], None], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._rows: list[list[Segment]] = []
        self._width = 0
        self._on_cells = on_cells

    def on_resize(self, event: Resize) -> None:
        self._on_cells((event.size.width, event.size.height))

    def show(self, pixels: np.ndarray) -> None:
        self._rows = half_block_rows(pixels)
        self._width = pixels.shape[1]
        self.refresh()

    def clear(self) -> None:
        self._rows = []
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        top = (height - len(self._rows)) // 2
        row = y - top
        if not 0 <= row < len(self._rows):
            return Strip.blank(width, self.rich_style)
        left = max((width - self._width) // 2, 0)
        return Strip([Segment(" " * left, self.rich_style), *self._rows[row]]).crop_extend(0, width, self.rich_style)


class CameraPreview(Container):
    """The preview with its caption (the frame's label) and, when there is no picture, a message instead."""

    def __init__(self, on_cells: Callable[[tuple[int, int]], None], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._on_cells = on_cells

    def compose(self) -> ComposeResult:
        yield FrameView(self._on_cells, id="frame")
        yield Static(_("Starting the camera…"), id="camera-message")

    def show_frame(self, pixels: np.ndarray, label: str) -> None:
        self.query_one("#camera-message").display = False
        frame = self.query_one(FrameView)
        frame.display = True
        frame.show(pixels)
        self.border_subtitle = plain(label, limit=40)

    def show_status(self, state: str, text: str) -> None:
        """The camera's state as the preview's title; when it is not live, the message in place of the picture
        (the last frame of a source that ended stays)."""
        self.border_title = Text.assemble(("● " if state == "live" else "○ "), plain(text, limit=60))
        self.set_class(state != "live", "-problem")
        if state != "live":
            self.show_message(text, keep_frame=state == "ended")

    def show_message(self, text: str, *, keep_frame: bool = False) -> None:
        message = self.query_one("#camera-message", Static)
        message.update(plain(text))
        message.display = True
        if not keep_frame:
            frame = self.query_one(FrameView)
            frame.clear()
            frame.display = False
            self.border_subtitle = ""
