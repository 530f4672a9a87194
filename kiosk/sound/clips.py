"""Each cue's sound as a clip: its tone, then (in voice mode) the verdict spoken, at the gate's volume.

Clips are rendered once (the player renders all of them when it starts) and written as 16-bit mono WAV files,
which every player reads; `write_clips` writes them to a folder for a keeper checking the speaker or for tests.
When espeak-ng cannot speak, the clips are tones alone and the reason is kept for the settings screen.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kiosk.sound.cues import Cue, SoundMode
from kiosk.keeper_locale import DOMAINS
from kiosk.sound.speech import SpeechUnavailable, speak
from sync.core.i18n import N_, speaker
from kiosk.sound.tones import tone

PHRASES = {
    Cue.PASS: N_("Verified. Go ahead."),
    Cue.HOLD: N_("Please wait."),
    Cue.REFUSE: N_("Entry refused."),
    Cue.NOT_LOGGED: N_("Not logged."),
}
"""What is said after each tone, in the gate's language from the catalogs: in Chinese the words gate terminals
say (核验通过, 请稍候, 禁止通行, 记录失败), short enough for a busy gate (about a second each)."""
TONE_RATE = 22050
"""Sample rate of tone-only clips (espeak-ng's own rate, so spoken clips need no resampling)."""
PAUSE_SECONDS = 0.12
"""Silence between the tone and the words."""


@dataclass(frozen=True)
class SoundSettings:
    mode: SoundMode = SoundMode.VOICE
    volume: int = 80
    """0-100; the loudness follows its square (50 is a quarter of full amplitude, -12 dB), as ears hear it."""
    language: str = "zh_CN"

    def __post_init__(self) -> None:
        if not 0 <= self.volume <= 100:
            raise ValueError(f"sound volume must be between 0 and 100, not {self.volume}")
        object.__setattr__(self, "mode", SoundMode(self.mode))


@dataclass(frozen=True, eq=False)
class Clip:
    samples: np.ndarray
    """16-bit mono samples."""
    rate: int


@dataclass(frozen=True)
class Clips:
    clips: dict[Cue, Clip]
    problem: str | None = None
    """Why the clips are not as asked (no speech: tones only), or None."""


def phrase(cue: Cue, language: str) -> str:
    """What is said for `cue` in `language` (the kiosk's catalogs; English where one has no translation)."""
    return speaker(language, DOMAINS).gettext(PHRASES[cue])


def render(settings: SoundSettings) -> Clips:
    """Every cue's clip for these settings (none when sound is off); speech that fails falls back to tones."""
    if settings.mode is SoundMode.OFF:
        return Clips({})
    gain = (settings.volume / 100) ** 2
    spoken: dict[Cue, tuple[np.ndarray, int]] = {}
    problem = None
    if settings.mode is SoundMode.VOICE:
        try:
            spoken = {cue: speak(phrase(cue, settings.language), settings.language) for cue in Cue}
        except SpeechUnavailable as error:
            problem = str(error)
    clips: dict[Cue, Clip] = {}
    for cue in Cue:
        words, rate = spoken.get(cue, (np.zeros(0), TONE_RATE))
        parts = [tone(cue, rate)]
        if words.size:
            parts += [np.zeros(int(PAUSE_SECONDS * rate)), words * (0.9 / np.abs(words).max())]
        samples = np.concatenate(parts) * gain
        clips[cue] = Clip(np.round(samples * 32767).astype(np.int16), rate)
    return Clips(clips, problem)


def write_wav(path: Path, clip: Clip) -> Path:
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(clip.rate)
        writer.writeframes(clip.samples.astype("<i2").tobytes())
    return path


def write_clips(folder: Path, settings: SoundSettings) -> tuple[list[Path], str | None]:
    """Every cue's clip as `<cue>.wav` in `folder` (made if missing; nothing when sound is off): the files, and
    why they are not as asked (no speech) or None."""
    folder.mkdir(parents=True, exist_ok=True)
    rendered = render(settings)
    return [write_wav(folder / f"{cue.value}.wav", clip) for cue, clip in rendered.clips.items()], rendered.problem
