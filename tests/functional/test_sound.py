"""Verdict sounds: tones and real espeak-ng speech written as WAV files, and the player driving real player
processes. The players are small shell scripts standing in for aplay (this machine has no sound card): one that
plays for ten minutes, one that also ignores SIGTERM like a wedged sink, one that fails like aplay with no device.
"""

from __future__ import annotations

import os
import shutil
import time
import wave
from collections.abc import Callable
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from kiosk.cli import main as kiosk_main
from sync.core.policy import Decision
from kiosk.sound.clips import SoundSettings, render, write_clips
from kiosk.sound.cues import Cue, SoundMode
from kiosk.sound.player import SoundPlayer
from kiosk.sound.tones import tone

ESPEAK = shutil.which("espeak-ng")


def samples_of(path: Path) -> np.ndarray:
    with wave.open(str(path)) as reader:
        assert (reader.getnchannels(), reader.getsampwidth()) == (1, 2)
        return np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2").astype(np.float64) / 32768


def eventually(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait for observable state (bounded)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"condition not met within {seconds} s"
        time.sleep(0.02)


def fake_player(folder: Path, name: str, log: Path, body: str) -> Path:
    """A player command that logs `start PID CLIP` and then runs `body` (a shell snippet)."""
    folder.mkdir(exist_ok=True)
    script = folder / name
    script.write_text(
        "#!/bin/sh\nPATH=/usr/bin:/bin\n"
        f'echo "start $$ $(basename "$1")" >> {log}\n'
        f"{body}\n"
    )
    script.chmod(0o755)
    return script


PLAYS_ON = "trap 'kill $child; echo \"stopped $$\" >> {log}; exit 143' TERM\nsleep 600 & child=$!\nwait $child"
HUNG = "trap '' TERM\nsleep 600 & wait"
NO_DEVICE = 'echo "fake-aplay: main:831: audio open error: No such file or directory" >&2\nexit 1'


def started(log: Path) -> list[tuple[int, str]]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [(int(pid), clip) for _, pid, clip in (line.split() for line in lines if line.startswith("start"))]


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_the_cues_cover_every_verdict() -> None:
    assert {decision.value for decision in Decision} <= {cue.value for cue in Cue}


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_sound_test_to_a_folder_writes_each_verdict_as_its_own_spoken_wav(tmp_path: Path, language: str) -> None:
    """`pocket-kiosk --lang L sound test --to DIR`, as a keeper checking the speaker runs it: one WAV per verdict,
    none of them silence, each a tone followed by words, no two alike."""
    config = tmp_path / "kiosk.toml"
    config.write_text('database = "gate.db"\nsound = "voice"\nvolume = 80\n')
    folder = tmp_path / language

    result = CliRunner().invoke(kiosk_main, ["--lang", language, "sound", "test", "--to", str(folder), "--config", str(config)])

    assert result.exit_code == 0, result.output
    paths = sorted(folder.glob("*.wav"))
    assert sorted(path.name for path in paths) == sorted(f"{cue.value}.wav" for cue in Cue)
    assert sorted(result.output.split()) == sorted(map(str, paths))
    clips = {path.stem: samples_of(path) for path in paths}
    for name, samples in clips.items():
        assert np.sqrt(np.mean(samples**2)) > 0.03, f"{name} is silence"
        assert len(samples) / 22050 > len(tone(Cue(name), 22050)) / 22050 + 0.4, f"{name} has no words after its tone"
    for (one, a), (other, b) in combinations(clips.items(), 2):
        assert len(a) != len(b) or np.abs(a - b).max() > 0.1, f"{one} and {other} sound alike"


def test_the_words_follow_the_language_and_the_tones_do_not(tmp_path: Path) -> None:
    chinese, _ = write_clips(tmp_path / "zh", SoundSettings(language="zh_CN"))
    english, _ = write_clips(tmp_path / "en", SoundSettings(language="en"))
    for zh, en in zip(chinese, english, strict=True):
        a, b = samples_of(zh), samples_of(en)
        assert len(a) != len(b) or np.abs(a - b).max() > 0.1, zh.name
    zh_tones, _ = write_clips(tmp_path / "zh-tones", SoundSettings(SoundMode.TONE, language="zh_CN"))
    en_tones, _ = write_clips(tmp_path / "en-tones", SoundSettings(SoundMode.TONE, language="en"))
    for zh, en, spoken in zip(zh_tones, en_tones, chinese, strict=True):
        assert np.array_equal(samples_of(zh), samples_of(en))
        assert len(samples_of(zh)) < len(samples_of(spoken))


def test_volume_scales_every_clip_and_is_checked() -> None:
    loud = render(SoundSettings(SoundMode.TONE, volume=100)).clips[Cue.PASS].samples
    half = render(SoundSettings(SoundMode.TONE, volume=50)).clips[Cue.PASS].samples
    assert np.abs(half).max() == pytest.approx(np.abs(loud).max() / 4, rel=0.01)
    assert not render(SoundSettings(SoundMode.TONE, volume=0)).clips[Cue.PASS].samples.any()
    assert render(SoundSettings(SoundMode.OFF)).clips == {}
    with pytest.raises(ValueError, match="between 0 and 100"):
        SoundSettings(volume=101)
    with pytest.raises(ValueError):
        SoundSettings(mode="loud")  # type: ignore[arg-type]


def test_without_espeak_ng_the_clips_are_tones_and_say_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tones, _ = write_clips(tmp_path / "tones", SoundSettings(SoundMode.TONE))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    paths, problem = write_clips(tmp_path / "voice", SoundSettings(SoundMode.VOICE))
    assert problem == "espeak-ng is not installed: verdicts are not spoken, tones only"
    assert [samples_of(path).tolist() for path in paths] == [samples_of(path).tolist() for path in tones]


def test_a_new_clip_stops_the_one_playing(tmp_path: Path) -> None:
    log = tmp_path / "played.log"
    player = fake_player(tmp_path / "bin", "slow-player", log, PLAYS_ON.format(log=log))
    sounds = SoundPlayer(SoundSettings(SoundMode.TONE), players=[[str(player)]], folder=tmp_path / "clips")
    sounds.start()
    try:
        sounds.play(Cue.PASS)
        eventually(lambda: [clip for _, clip in started(log)] == ["pass.wav"])
        [(first, _)] = started(log)
        sounds.play(Cue.REFUSE)
        eventually(lambda: len(started(log)) == 2 and f"stopped {first}" in log.read_text())
        assert started(log)[1][1] == "refuse.wav"
        eventually(lambda: gone(first))
        assert not gone(started(log)[1][0]), "the new clip plays on"
        assert sounds.status.problems == ()
    finally:
        sounds.close()
    eventually(lambda: gone(started(log)[1][0]))


def test_a_hung_sink_never_holds_up_play(tmp_path: Path) -> None:
    """A player that ignores SIGTERM and never ends: play() still returns at once every time (were it to wait for
    the sink, this test would never get past the second call), the latest cue plays, and the wedged players are
    killed."""
    log = tmp_path / "played.log"
    player = fake_player(tmp_path / "bin", "hung-player", log, HUNG)
    sounds = SoundPlayer(SoundSettings(SoundMode.TONE), players=[[str(player)]], folder=tmp_path / "clips")
    sounds.start()
    try:
        sounds.play(Cue.PASS)
        eventually(lambda: len(started(log)) == 1)
        for cue in (Cue.HOLD, Cue.REFUSE, Cue.HOLD, Cue.REFUSE):
            sounds.play(cue)
        eventually(lambda: started(log)[-1][1] == "refuse.wav" and len(started(log)) >= 2)
        *stopped, (latest, _) = started(log)
        eventually(lambda: all(gone(pid) for pid, _ in stopped))
        assert not gone(latest)
        assert not sounds.wait_until_silent(0), "the latest clip is still playing"
    finally:
        sounds.close()
    eventually(lambda: gone(latest))


def test_no_audio_device_is_reported_once_and_the_gate_goes_on(tmp_path: Path) -> None:
    log = tmp_path / "played.log"
    player = fake_player(tmp_path / "bin", "fake-aplay", log, NO_DEVICE)
    reported: list[str] = []
    sounds = SoundPlayer(
        SoundSettings(SoundMode.TONE), players=[[str(player)]], folder=tmp_path / "clips", on_problem=reported.append
    )
    sounds.start()
    try:
        for cue in (Cue.PASS, Cue.REFUSE, Cue.HOLD):
            sounds.play(cue)
            assert sounds.wait_until_silent(10)
    finally:
        sounds.close()
    assert [clip for _, clip in started(log)] == ["pass.wav", "refuse.wav", "hold.wav"]
    assert reported == [
        "no sound from the speaker (fake-aplay: main:831: audio open error: No such file or directory): "
        "the gate goes on silently"
    ]
    assert sounds.status.problems == tuple(reported)


def test_a_player_that_fails_hands_the_clip_to_the_next(tmp_path: Path) -> None:
    log = tmp_path / "played.log"
    failing = fake_player(tmp_path / "bin", "fake-pw-play", log, NO_DEVICE)
    working = fake_player(tmp_path / "bin", "fake-aplay", log, "exit 0")
    sounds = SoundPlayer(SoundSettings(SoundMode.TONE), players=[[str(failing)], [str(working)]], folder=tmp_path / "c")
    sounds.start()
    try:
        sounds.play(Cue.HOLD)
        assert sounds.wait_until_silent(10)
        sounds.play(Cue.PASS)
        assert sounds.wait_until_silent(10)
    finally:
        sounds.close()
    assert [clip for _, clip in started(log)] == ["hold.wav", "hold.wav", "pass.wav"], "the working player is kept"
    assert sounds.status.player == str(working)
    assert sounds.status.problems == ()


def test_with_no_player_at_all_the_gate_is_silent_and_says_so(tmp_path: Path) -> None:
    reported: list[str] = []
    sounds = SoundPlayer(SoundSettings(), players=[["/nonexistent/aplay", "-q"]], on_problem=reported.append)
    sounds.start()
    sounds.play(Cue.PASS)
    sounds.close()
    assert reported == ["no audio player found (/nonexistent/aplay): the gate is silent"]


@pytest.mark.skipif(ESPEAK is None, reason="espeak-ng is installed by install.sh")
def test_each_clip_is_rendered_once_with_the_mandarin_voice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "played.log"
    calls = tmp_path / "espeak.log"
    player = fake_player(tmp_path / "bin", "quick-player", log, "exit 0")
    espeak = tmp_path / "bin" / "espeak-ng"
    espeak.write_text(f'#!/bin/sh\necho "$2" >> {calls}\nexec {ESPEAK} "$@"\n')
    espeak.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    sounds = SoundPlayer(SoundSettings(language="zh_CN"), players=[[str(player)]], folder=tmp_path / "clips")
    sounds.start()
    try:
        for cue in list(Cue) * 2:
            sounds.play(cue)
            assert sounds.wait_until_silent(10)
    finally:
        sounds.close()
    assert len(started(log)) == 2 * len(Cue)
    assert calls.read_text().splitlines() == ["cmn-latn-pinyin"] * len(Cue), "espeak-ng ran once per clip"
    assert sounds.status == sounds.status.__class__(SoundMode.VOICE, str(player), ())
