"""The small typed messages that thread workers post to the screens: the only way they talk to the UI.

Camera frames and status lines replace stale ones still in the queue (`can_replace`), so a slow screen
never falls behind the camera; verdicts are never replaced: each one is a committed entry.
"""

from __future__ import annotations

import numpy as np
from textual.message import Message

from kiosk.gate import EntryInputError, Outcome
from kiosk.idcard import CardReading
from kiosk.operators import Operator
from kiosk.uplink.status import SyncStatus


class FramePreview(Message):
    """A thumbnail of the newest camera frame, already sized for the preview widget."""

    def __init__(self, pixels: np.ndarray, label: str) -> None:
        super().__init__()
        self.pixels = pixels
        """RGB, uint8, shape (2 * rows, columns, 3): two pixel rows per terminal row."""
        self.label = label

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FramePreview)


class CameraStatus(Message):
    """The camera's state in words: 'live', 'missing' (retrying), 'lost' (retrying) or 'ended'."""

    def __init__(self, state: str, text: str) -> None:
        super().__init__()
        self.state = state
        self.text = text

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, CameraStatus)


class VerdictReady(Message):
    """An entry was committed; its verdict may now be shown."""

    def __init__(self, outcome: Outcome, origin: str, decoder: str = "") -> None:
        super().__init__()
        self.outcome = outcome
        self.origin = origin
        """'scan', 'manual', 'visitor' or 'temperature'."""
        self.decoder = decoder


class EntryFailed(Message):
    """A presentation could not be logged (disk full, database damaged): no verdict may be shown for it."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class EntryRejected(Message):
    """A typed entry was refused before judging (a mistyped ID number...): nothing was logged."""

    def __init__(self, error: EntryInputError) -> None:
        super().__init__()
        self.field = error.field
        self.text = str(error)


class CodeIgnored(Message):
    """A QR code was seen and not logged: not a health code (a shop's or a Wi-Fi code), or one part of a
    multi-part code (`partial`), whose next part the keeper should ask for."""

    def __init__(self, text: str, *, partial: bool = False) -> None:
        super().__init__()
        self.text = text
        self.partial = partial

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, CodeIgnored)


class SignInChecked(Message):
    """The result of checking an operator's PIN (None: wrong id or PIN)."""

    def __init__(self, operator_id: str, operator: Operator | None) -> None:
        super().__init__()
        self.operator_id = operator_id
        self.operator = operator


class SyncStatusChanged(Message):
    """The sync status for the indicator, as the gate database records it: from the sync worker after each run,
    or from the gate screen's periodic read (which also sees a sync run from the command line)."""

    def __init__(self, status: SyncStatus) -> None:
        super().__init__()
        self.status = status

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SyncStatusChanged)


class CardRead(Message):
    """An ID card was read from the camera's newest frame (None: there was no frame to read)."""

    def __init__(self, reading: CardReading | None) -> None:
        super().__init__()
        self.reading = reading
