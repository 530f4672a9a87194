"""Speak a short phrase with espeak-ng, offline, into samples.

Mandarin uses espeak-ng's `cmn-latn-pinyin` voice where it exists: espeak-ng 1.51 (Debian 12) looks Chinese
characters up as pinyin with tone digits, and its plain `cmn` voice ("latin as English") then reads those digits
aloud in English (你好 comes out as "ni three hao three"); the pinyin voice speaks them as tones. Newer
espeak-ng speaks both correctly, so `cmn` remains the fallback. Slower than espeak-ng's 175 words a minute,
so a verdict is clear over the noise of a gate.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from dataclasses import dataclass

import numpy as np

from sync.core.i18n import _

ESPEAK = "espeak-ng"
TIMEOUT_SECONDS = 10.0
"""Longest a phrase may take to render (a few hundredths of a second normally)."""


@dataclass(frozen=True)
class Voice:
    names: tuple[str, ...]
    """espeak-ng voices to try, best first."""
    words_per_minute: int
    pitch: int = 50


VOICES = {"zh": Voice(("cmn-latn-pinyin", "cmn"), 150), "en": Voice(("en",), 160)}


class SpeechUnavailable(Exception):
    """espeak-ng is missing or cannot speak the language; the message says which, for the keeper's settings."""


def family(language: str) -> str:
    """`zh` for a Chinese gate language such as `zh_CN`, else `en` (the gate's fallback language)."""
    return "zh" if language.lower().startswith("zh") else "en"


def speak(text: str, language: str) -> tuple[np.ndarray, int]:
    """`text` spoken in `language`: float samples in [-1, 1] with silence trimmed, and their sample rate."""
    program = shutil.which(ESPEAK)
    if program is None:
        raise SpeechUnavailable(_("{program} is not installed: verdicts are not spoken, tones only").format(program=ESPEAK))
    voice = VOICES[family(language)]
    errors: list[str] = []
    for name in voice.names:
        command = [program, "-v", name, "-s", str(voice.words_per_minute), "-p", str(voice.pitch), "-b", "1"]
        try:
            done = subprocess.run(
                [*command, "--stdout"], input=text.encode(), capture_output=True, timeout=TIMEOUT_SECONDS
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            errors.append(f"{name}: {error}")
            continue
        if done.returncode == 0 and done.stdout:
            return decode(done.stdout)
        errors.append(f"{name}: {done.stderr.decode(errors='replace').strip() or f'exit status {done.returncode}'}")
    reasons = "; ".join(errors)
    raise SpeechUnavailable(_("{program} cannot speak {language} ({reasons}): verdicts are not spoken, tones only").format(
        program=ESPEAK, language=language, reasons=reasons))


def decode(wav: bytes) -> tuple[np.ndarray, int]:
    """espeak-ng's 16-bit mono WAV (streamed, so its header claims 2 GB: read what is there), silence trimmed."""
    with wave.open(io.BytesIO(wav)) as reader:
        rate = reader.getframerate()
        frames = reader.readframes(reader.getnframes())
    samples = np.frombuffer(frames[: len(frames) // 2 * 2], dtype="<i2").astype(np.float64) / 32768
    loud = np.flatnonzero(np.abs(samples) > 0.02 * max(float(np.abs(samples).max(initial=0.0)), 1e-9))
    if loud.size == 0:
        raise SpeechUnavailable(_("{program} produced only silence: verdicts are not spoken, tones only").format(program=ESPEAK))
    margin = rate // 100
    return samples[max(loud[0] - margin, 0) : loud[-1] + margin], rate
