"""Verdict sounds: a short tone per verdict and, by default, the verdict spoken in the gate's language.

`clips` renders them (tones synthesised with numpy, speech from espeak-ng, fully offline) and writes them as WAV
files; `player` plays them on the gate's speaker from its own thread, so a verdict on screen never waits for a
sound, and a new verdict cuts off the previous one.
"""
