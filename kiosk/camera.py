"""Frame sources behind one `--source` value, and a capture thread that never blocks the decoder.

    "0", "1"          webcam by index
    rtsp://, http://  a network stream
    a folder          every image in it, in name order
    a glob pattern    every matching image, in name order
    an image file     that one image
    any other file    a video file

Live sources (webcam, stream) keep only the newest frame: a slow decoder skips stale frames rather than
falling behind the person in front of the camera. Finite sources (files, folders) deliver every frame, so a
recorded session is judged completely and tests are deterministic.
"""

from __future__ import annotations

import glob
import os
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
from sync.core.i18n import _

# FFmpeg (OpenCV's backend for streams and video files) prints its own complaints on stderr, which in the kiosk
# is the screen Textual draws on ("Connection refused", "Stream ends prematurely"); the source says what went
# wrong in words instead (SourceError). Set the variable yourself to see FFmpeg's messages when debugging.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm"}
_GLOB_CHARS = set("*?[")


class SourceError(Exception):
    """The camera source cannot be opened or has stopped; the message is meant for the keeper."""


@dataclass(frozen=True)
class Frame:
    image: np.ndarray
    """BGR or grayscale pixels."""
    index: int
    """Position in the source (0-based), for reports."""
    label: str
    """File name for image sources, otherwise the source description."""
    captured_at: float
    """time.monotonic() when it was read."""


class FrameSource(Protocol):
    live: bool
    description: str

    def read(self) -> tuple[np.ndarray, str] | None:
        """The next frame and its label, or None when a finite source has ended. Raises SourceError when a
        live source fails."""
        ...

    def close(self) -> None: ...


class ImageSequence:
    """Images from a folder, a glob or a single file; unreadable files are skipped and remembered."""

    live = False

    def __init__(self, paths: list[Path], description: str, *, loop: bool = False) -> None:
        if not paths:
            raise SourceError(_("no images found in {source}").format(source=description))
        self.paths = paths
        self.description = description
        self.loop = loop
        self.skipped: list[Path] = []
        self._next = 0

    def read(self) -> tuple[np.ndarray, str] | None:
        for _attempt in range(len(self.paths)):
            if self._next >= len(self.paths):
                if not self.loop:
                    return None
                self._next = 0
            path = self.paths[self._next]
            self._next += 1
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is not None:
                return image, path.name
            if path not in self.skipped:
                self.skipped.append(path)
        return None

    def close(self) -> None:
        pass


class VideoSource:
    """A webcam, a stream or a video file through OpenCV's VideoCapture."""

    def __init__(self, target: int | str, *, live: bool, description: str) -> None:
        self.live = live
        self.description = description
        self._capture = cv2.VideoCapture(target)
        if not self._capture.isOpened():
            self._capture.release()
            if isinstance(target, int):
                raise SourceError(_("cannot open camera {source}").format(source=description))
            if live:
                raise SourceError(_("cannot open stream {source}").format(source=description))
            raise SourceError(_("cannot open video file {source}").format(source=description))

    def read(self) -> tuple[np.ndarray, str] | None:
        ok, image = self._capture.read()
        if ok:
            return image, self.description
        if self.live:
            raise SourceError(_("{source} stopped sending frames").format(source=self.description))
        return None

    def close(self) -> None:
        self._capture.release()


def _image_paths(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def open_source(spec: str, *, loop: bool = False) -> FrameSource:
    """Open whatever `spec` names (see the module docstring). `loop` replays finite image sources."""
    spec = spec.strip()
    if spec.isdigit():
        return VideoSource(int(spec), live=True, description=_("webcam {index}").format(index=spec))
    if "://" in spec:
        return VideoSource(spec, live=True, description=spec)
    path = Path(spec).expanduser()
    if path.is_dir():
        return ImageSequence(_image_paths(path), _("folder {path}").format(path=path), loop=loop)
    if _GLOB_CHARS & set(spec):
        matches = sorted(Path(p) for p in glob.glob(str(path)) if Path(p).suffix.lower() in IMAGE_SUFFIXES)
        return ImageSequence(matches, _("pattern {pattern}").format(pattern=spec), loop=loop)
    if not path.exists():
        raise SourceError(
            _("camera source {source} does not exist (not a webcam index, URL, folder or file)").format(source=spec)
        )
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageSequence([path], _("image {path}").format(path=path), loop=loop)
    return VideoSource(str(path), live=False, description=_("video {path}").format(path=path))


class CaptureThread:
    """Reads a source in its own thread and hands frames over through a queue.

    `frames()` yields until the source ends, fails or `stop()` is called; a failure is kept in `error`.
    `min_interval` paces finite sources that stand in for a camera (the demo)."""

    _END = object()

    def __init__(self, source: FrameSource, *, min_interval: float = 0.0) -> None:
        self.source = source
        self.min_interval = min_interval
        self.error: SourceError | None = None
        self._stop = threading.Event()
        self._queue: queue.Queue[object] = queue.Queue(maxsize=1 if source.live else 4)
        self._thread = threading.Thread(target=self._run, name="capture", daemon=True)

    def start(self) -> CaptureThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.source.close()

    def _put(self, item: object) -> None:
        if self.source.live:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                pass
            self._queue.put_nowait(item)
            return
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _run(self) -> None:
        index = 0
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                got = self.source.read()
                if got is None:
                    break
                image, label = got
                self._put(Frame(image, index, label, time.monotonic()))
                index += 1
                if self.min_interval:
                    self._stop.wait(max(0.0, self.min_interval - (time.monotonic() - started)))
        except SourceError as exc:
            self.error = exc
        finally:
            self._put(self._END)

    def frames(self) -> Iterator[Frame]:
        while not self._stop.is_set():
            try:
                item = self._queue.get(timeout=0.5)
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    return
                continue
            if item is self._END:
                return
            assert isinstance(item, Frame)
            yield item
