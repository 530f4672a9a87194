"""What the gate can sound: the three verdicts (the same values as the policy's decisions) and a failed entry."""

from __future__ import annotations

from enum import StrEnum


class Cue(StrEnum):
    PASS = "pass"
    HOLD = "hold"
    REFUSE = "refuse"
    NOT_LOGGED = "not-logged"
    """The entry could not be saved: nobody may pass on that scan (the banner says NOT LOGGED)."""


class SoundMode(StrEnum):
    VOICE = "voice"
    """A tone, then the verdict spoken in the gate's language (the default)."""
    TONE = "tone"
    OFF = "off"
