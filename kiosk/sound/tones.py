"""A short tone for each verdict, distinct in pitch, rhythm and timbre so a keeper knows it without looking.

Pass is two rising bell notes, hold two even mid beeps, refuse three low buzzes, and an entry that could not be
logged a falling buzz. Samples are floats in [-1, 1] at any sample rate (the speech's, so they can be joined).
"""

from __future__ import annotations

import numpy as np

from kiosk.sound.cues import Cue

Partials = tuple[tuple[int, float], ...]
BELL = ((1, 1.0), (2, 0.35), (3, 0.12))
BEEP = ((1, 1.0), (3, 0.15))
BUZZ = tuple((k, 1.0 / k) for k in range(1, 12, 2))
"""Partials (multiple of the note's frequency, amplitude): a struck bell, a plain beep, a square-ish buzz."""
PEAK = 0.6

# Each cue: notes as (frequency Hz, seconds), the silence between them, the partials and how fast notes fade.
SHAPES: dict[Cue, tuple[tuple[tuple[float, float], ...], float, Partials, float]] = {
    Cue.PASS: (((1046.5, 0.11), (1568.0, 0.24)), 0.02, BELL, 0.12),
    Cue.HOLD: (((880.0, 0.16), (880.0, 0.16)), 0.09, BEEP, 0.5),
    Cue.REFUSE: (((277.2, 0.14), (277.2, 0.14), (277.2, 0.14)), 0.06, BUZZ, 2.0),
    Cue.NOT_LOGGED: (((440.0, 0.18), (220.0, 0.36)), 0.03, BUZZ, 2.0),
}


def note(frequency: float, seconds: float, rate: int, partials: Partials, fade: float) -> np.ndarray:
    """One note: its partials under a 5 ms attack, an exponential fade and a 10 ms release (no clicks)."""
    t = np.arange(int(seconds * rate)) / rate
    wave = sum(amplitude * np.sin(2 * np.pi * frequency * multiple * t) for multiple, amplitude in partials)
    envelope = np.exp(-t / fade) * np.minimum(1.0, t / 0.005) * np.clip((seconds - t) / 0.01, 0.0, 1.0)
    return np.asarray(wave * envelope, dtype=np.float64)


def tone(cue: Cue, rate: int) -> np.ndarray:
    notes, gap, partials, fade = SHAPES[cue]
    silence = np.zeros(int(gap * rate))
    parts: list[np.ndarray] = []
    for frequency, seconds in notes:
        if parts:
            parts.append(silence)
        parts.append(note(frequency, seconds, rate, partials, fade))
    samples = np.concatenate(parts)
    return samples * (PEAK / np.abs(samples).max())
