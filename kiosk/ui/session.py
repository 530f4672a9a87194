"""What the keeper has set at the gate right now, shared between the screen and the camera thread.

The camera worker reads the direction and takes the pending temperature when it logs a scan; the screen
changes them on key presses. A lock keeps a temperature from being used twice or lost between the two. While
another screen covers the gate screen (a form, the log, the settings, the handover) the camera worker does not
scan: a verdict the keeper cannot see must not be logged.
"""

from __future__ import annotations

import threading

from sync.core.policy import Direction


class GateSession:
    def __init__(self, operator_id: str, direction: Direction = Direction.IN) -> None:
        self.operator_id = operator_id
        self._direction = direction
        self._temperature: float | None = None
        self._lock = threading.Lock()
        self.preview_cells: tuple[int, int] = (32, 12)
        """(columns, rows) of the preview widget; the camera thread sizes thumbnails to fit."""
        self._scanning = threading.Event()
        self._scanning.set()

    @property
    def scanning(self) -> bool:
        """Whether the keeper can see the verdicts: the gate screen is the one on show."""
        return self._scanning.is_set()

    def set_scanning(self, on: bool) -> None:
        if on:
            self._scanning.set()
        else:
            self._scanning.clear()

    @property
    def direction(self) -> Direction:
        with self._lock:
            return self._direction

    def switch_direction(self) -> Direction:
        with self._lock:
            self._direction = Direction.OUT if self._direction is Direction.IN else Direction.IN
            return self._direction

    @property
    def pending_temperature(self) -> float | None:
        with self._lock:
            return self._temperature

    def set_temperature(self, value: float | None) -> None:
        with self._lock:
            self._temperature = value

    def consume_temperature(self, used: float) -> None:
        """Clear the pending temperature after it was logged with a scan, unless the keeper changed it since."""
        with self._lock:
            if self._temperature == used:
                self._temperature = None
