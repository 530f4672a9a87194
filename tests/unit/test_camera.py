"""Frame sources chosen by one --source value, and the capture thread that feeds the decoder."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.camera import CaptureThread, ImageSequence, SourceError, VideoSource, open_source
from tests.helpers import camera_frame, write_png
from tests.mjpeg_camera import MjpegCamera


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for i in range(3):
        write_png(tmp_path / f"f{i}.png", camera_frame(None, size=(64, 48)))
    (tmp_path / "notes.txt").write_text("not an image")
    return tmp_path


def test_folder_glob_and_single_image(folder: Path) -> None:
    source = open_source(str(folder))
    assert isinstance(source, ImageSequence) and [p.name for p in source.paths] == ["f0.png", "f1.png", "f2.png"]
    assert [p.name for p in open_source(str(folder / "f[12].png")).paths] == ["f1.png", "f2.png"]  # type: ignore[attr-defined]
    assert len(open_source(str(folder / "f0.png")).paths) == 1  # type: ignore[attr-defined]


def test_video_file_source(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5, (64, 48))
    for _ in range(4):
        writer.write(np.zeros((48, 64, 3), np.uint8))
    writer.release()
    source = open_source(str(path))
    assert isinstance(source, VideoSource) and not source.live
    assert len(list(CaptureThread(source).start().frames())) == 4


@pytest.mark.parametrize("spec", ["/no/such/place", "/no/such/*.png"])
def test_missing_sources_are_clear(spec: str) -> None:
    with pytest.raises(SourceError):
        open_source(spec)


def test_broken_video_file_is_clear(tmp_path: Path) -> None:
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"not a video at all")
    with pytest.raises(SourceError, match="cannot open video file"):
        open_source(str(path))


def test_finite_source_delivers_every_frame_in_order(folder: Path) -> None:
    capture = CaptureThread(open_source(str(folder))).start()
    assert [f.label for f in capture.frames()] == ["f0.png", "f1.png", "f2.png"]
    assert capture.error is None


def test_looping_source_runs_until_stopped(folder: Path) -> None:
    capture = CaptureThread(open_source(str(folder), loop=True)).start()
    labels = []
    for frame in capture.frames():
        labels.append(frame.label)
        if len(labels) == 7:
            capture.stop()
    assert labels[:7] == ["f0.png", "f1.png", "f2.png", "f0.png", "f1.png", "f2.png", "f0.png"]


def test_unreadable_images_are_skipped_and_reported(folder: Path) -> None:
    (folder / "f1.png").write_bytes(b"garbage")
    source = open_source(str(folder))
    capture = CaptureThread(source).start()
    assert [f.label for f in capture.frames()] == ["f0.png", "f2.png"]
    assert [p.name for p in source.skipped] == ["f1.png"]  # type: ignore[attr-defined]


def test_a_webcam_that_is_not_there_is_clear() -> None:
    if Path("/dev/video9").exists():
        pytest.skip("this machine has a webcam 9")
    with pytest.raises(SourceError, match="cannot open camera webcam 9"):
        open_source("9")  # this machine has no /dev/video*; a gate laptop without a webcam says the same


def test_a_network_camera_is_live_keeps_only_the_newest_frame_and_reports_when_it_stops() -> None:
    """A decoder slower than the camera skips stale frames instead of falling behind the person in front."""
    camera = MjpegCamera().plug_in()
    watchdog = threading.Timer(30, camera.unplug)  # whatever happens, the stream ends and so do the loops below
    watchdog.start()
    try:
        source = open_source(camera.url)
        assert isinstance(source, VideoSource) and source.live
        capture = CaptureThread(source).start()
        indexes: list[int] = []
        for frame in capture.frames():
            indexes.append(frame.index)
            if len(indexes) == 4:
                break
            camera.wait_sent(camera.sent + 6)  # a slow decode: the camera sends six frames meanwhile
        camera.unplug()
        later = list(capture.frames())  # what is left once the camera is gone: at most the newest, then the end
        capture.stop()
    finally:
        watchdog.cancel()
        camera.unplug()
    assert len(indexes) == 4
    assert all(b - a >= 2 for a, b in zip(indexes, indexes[1:]))  # frames were skipped, never queued
    assert len(later) <= 1
    assert capture.error is not None and "stopped sending frames" in str(capture.error)
