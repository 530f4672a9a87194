"""A network camera on 127.0.0.1 for tests: an MJPEG stream over HTTP, as IP cameras serve it, that a test can
unplug (every connection closed, the port refusing) and plug back in on the same address.

OpenCV reads it through `http://` exactly as it reads a real one, so the kiosk's live-source path (keep the
newest frame, a failure reported, reconnecting by itself) runs for real.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np

BOUNDARY = b"frame"
FRAME_SECONDS = 0.05
"""20 frames a second, like a webcam."""
MAX_FRAMES = 20 * 600
"""Every stream ends by itself after ten minutes, whatever the test does."""


class MjpegCamera:
    def __init__(self) -> None:
        self._jpeg = self._encode(np.full((480, 640, 3), 200, np.uint8))
        self._unplugged = threading.Event()
        self._sent = 0
        self._sent_changed = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/stream.mjpg"

    @staticmethod
    def _encode(image: np.ndarray) -> bytes:
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        assert ok
        return jpeg.tobytes()

    @property
    def sent(self) -> int:
        """Frames sent so far, over every connection since the camera was made."""
        with self._sent_changed:
            return self._sent

    def wait_sent(self, count: int, seconds: float = 10.0) -> None:
        """Block until `count` frames have been sent in all; AssertionError if that takes over `seconds`."""
        with self._sent_changed:
            if not self._sent_changed.wait_for(lambda: self._sent >= count, timeout=seconds):
                raise AssertionError(f"the camera sent {self._sent} frames, not {count}, within {seconds} s")

    def show(self, image: Path | None) -> None:
        """Put this picture (a code image file) in front of the camera; None for an empty grey view."""
        self._jpeg = self._encode(np.full((480, 640, 3), 200, np.uint8) if image is None else cv2.imread(str(image)))

    def plug_in(self) -> MjpegCamera:
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY.decode()}")
                self.end_headers()
                try:
                    for _ in range(MAX_FRAMES):
                        if camera._unplugged.wait(FRAME_SECONDS):
                            return
                        jpeg = camera._jpeg
                        self.wfile.write(
                            b"--" + BOUNDARY + b"\r\nContent-Type: image/jpeg\r\n"
                            + f"Content-Length: {len(jpeg)}\r\n\r\n".encode() + jpeg + b"\r\n"
                        )
                        with camera._sent_changed:
                            camera._sent += 1
                            camera._sent_changed.notify_all()
                except (BrokenPipeError, ConnectionResetError):
                    return

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
                pass

        self._unplugged.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def unplug(self) -> None:
        """Every stream ends and the port refuses connections until `plug_in`."""
        self._unplugged.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
