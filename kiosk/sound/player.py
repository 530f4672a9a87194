"""Play verdict clips on the gate's speaker without ever holding up the caller.

`play()` only records which cue is wanted and wakes a worker thread, so a verdict on screen never waits for a
sound. The worker renders every clip once when it starts, then plays the latest cue with the first audio player
that works (PipeWire's `pw-play`, PulseAudio's `paplay`, ALSA's `aplay`), each clip in a process of its own. A new
cue stops the clip playing (SIGTERM to its process group, SIGKILL a second later if it is still there), so a slow
or hung audio sink costs the worker a signal, never the caller a wait. When no player can play (no sound card,
no sound server) or espeak-ng cannot speak, the problem is reported once, kept in `status` for the settings
screen, and the gate goes on silently (or with tones only).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sync.core.i18n import _
from kiosk.sound.clips import SoundSettings, render, write_wav
from kiosk.sound.cues import Cue, SoundMode

PLAYERS: tuple[tuple[str, ...], ...] = (("pw-play",), ("paplay",), ("aplay", "-q"))
"""Audio players tried in order, each given the clip's path last."""
POLL_SECONDS = 0.05
"""How often the worker looks at a playing clip (to notice a player that failed, and try the next)."""
KILL_AFTER_SECONDS = 1.0
"""How long a stopped player may take to exit before it is killed."""


@dataclass(frozen=True)
class SoundStatus:
    mode: SoundMode
    """What is in effect: voice, tone (voice was asked but espeak-ng cannot speak) or off."""
    player: str | None
    """The audio player that last played a clip, e.g. `aplay`."""
    problems: tuple[str, ...]
    """What keeps the gate from sounding as configured, in words for the settings screen."""


@dataclass
class _Playing:
    cue: Cue
    process: subprocess.Popen[bytes]
    player: int
    errors: IO[bytes]


class SoundPlayer:
    """The gate's verdict sounds: `start()` once, `play(cue)` on every verdict, `close()` at the end.

    `on_problem` is called (from the worker thread) when a problem appears, once until it clears.
    """

    def __init__(
        self,
        settings: SoundSettings,
        *,
        players: Sequence[Sequence[str]] = PLAYERS,
        folder: Path | None = None,
        on_problem: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self._players = [list(player) for player in players if shutil.which(player[0])]
        self._player_names = ", ".join(player[0] for player in players)
        self._folder = folder
        self.on_problem = on_problem
        """Called (from the worker thread) with each new problem; may be set before `start()`."""
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._silent = threading.Event()
        self._silent.set()
        self._pending: Cue | None = None
        self._closing = False
        self._thread: threading.Thread | None = None
        self._temporary: tempfile.TemporaryDirectory[str] | None = None
        self._clips: dict[Cue, Path] = {}
        self._mode = settings.mode
        self._problems: dict[str, str] = {}
        self._player_name: str | None = None
        self._working = 0
        self._playing: _Playing | None = None
        self._stopping: list[tuple[subprocess.Popen[bytes], float]] = []

    @property
    def audible(self) -> bool:
        return self.settings.mode is not SoundMode.OFF and self.settings.volume > 0

    @property
    def status(self) -> SoundStatus:
        with self._lock:
            return SoundStatus(self._mode, self._player_name, tuple(self._problems.values()))

    def start(self) -> None:
        """Start the worker, which renders the clips (a few hundredths of a second) and then waits for cues."""
        if self._thread is not None or not self.audible:
            return
        if not self._players:
            self._report("player", _("no audio player found ({players}): the gate is silent").format(players=self._player_names))
            return
        self._thread = threading.Thread(target=self._run, name="verdict-sounds", daemon=True)
        self._thread.start()

    def play(self, cue: Cue | str) -> None:
        """Sound `cue` as soon as the worker can, cutting off the clip playing now; returns at once."""
        cue = Cue(cue)
        if not self.audible or not self._players:
            return
        with self._lock:
            if self._closing:
                return
            self._pending = cue
            self._silent.clear()
        self._wake.set()

    def wait_until_silent(self, timeout: float) -> bool:
        """Wait until nothing plays or waits to play (for `sound test` and tests); False after `timeout` s."""
        return self._silent.wait(timeout)

    def close(self, timeout: float = 2.0) -> None:
        """Stop the clip playing and the worker (waiting at most `timeout` s for it)."""
        with self._lock:
            self._closing = True
            self._pending = None
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._temporary is not None:
            self._temporary.cleanup()

    # -- the worker ---------------------------------------------------------------------------------

    def _run(self) -> None:
        self._render()
        while True:
            busy = self._playing is not None or bool(self._stopping)
            self._wake.wait(POLL_SECONDS if busy else 1.0)
            with self._lock:
                self._wake.clear()
                cue, self._pending = self._pending, None
                closing = self._closing
            if closing:
                self._stop()
                self._reap(kill_now=True)
                for process, _ in self._stopping:
                    try:
                        process.wait(KILL_AFTER_SECONDS)
                    except subprocess.TimeoutExpired:
                        pass  # stuck in the kernel (a wedged sound driver): nothing more can be done
                return
            if cue is not None:
                self._stop()
                self._start(cue, self._working)
            self._check()
            self._reap(kill_now=False)
            with self._lock:
                if self._playing is None and self._pending is None:
                    self._silent.set()

    def _render(self) -> None:
        if self._folder is None:
            self._temporary = tempfile.TemporaryDirectory(prefix="pocket-gate-sounds-")
            self._folder = Path(self._temporary.name)
        self._folder.mkdir(parents=True, exist_ok=True)
        rendered = render(self.settings)
        self._clips = {cue: write_wav(self._folder / f"{cue.value}.wav", clip) for cue, clip in rendered.clips.items()}
        if rendered.problem is not None:
            with self._lock:
                self._mode = SoundMode.TONE
            self._report("speech", rendered.problem)

    def _start(self, cue: Cue, first: int) -> None:
        """Play `cue` with the first player from index `first` that starts."""
        for index in range(first, len(self._players)):
            errors = tempfile.TemporaryFile()
            try:
                process = subprocess.Popen(
                    [*self._players[index], str(self._clips[cue])],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=errors,
                    start_new_session=True,
                )
            except OSError as error:
                errors.close()
                self._failed(index, f"{self._players[index][0]}: {error}")
                continue
            self._playing = _Playing(cue, process, index, errors)
            return

    def _check(self) -> None:
        """A player that has exited: fine, or failed, and then the next player gets the same clip."""
        playing = self._playing
        if playing is None or playing.process.poll() is None:
            return
        self._playing = None
        playing.errors.seek(0)
        said = playing.errors.read()[-2000:].decode(errors="replace").strip().splitlines()
        playing.errors.close()
        name = self._players[playing.player][0]
        if playing.process.returncode == 0:
            self._working = playing.player
            with self._lock:
                self._player_name = name
                self._problems.pop("player", None)
            return
        self._failed(playing.player, said[-1] if said else f"{name}: exit status {playing.process.returncode}")
        if playing.player + 1 < len(self._players):
            self._start(playing.cue, playing.player + 1)

    def _failed(self, index: int, error: str) -> None:
        if index + 1 < len(self._players):
            return
        self._working = 0
        self._report("player", _("no sound from the speaker ({error}): the gate goes on silently").format(error=error))

    def _stop(self) -> None:
        playing, self._playing = self._playing, None
        if playing is None:
            return
        playing.errors.close()
        self._signal(playing.process, signal.SIGTERM)
        self._stopping.append((playing.process, time.monotonic() + KILL_AFTER_SECONDS))

    def _reap(self, *, kill_now: bool) -> None:
        still: list[tuple[subprocess.Popen[bytes], float]] = []
        for process, deadline in self._stopping:
            if process.poll() is not None:
                continue
            if kill_now or time.monotonic() >= deadline:
                self._signal(process, signal.SIGKILL)
            still.append((process, deadline))
        self._stopping = still

    @staticmethod
    def _signal(process: subprocess.Popen[bytes], number: signal.Signals) -> None:
        """Signal the player's whole process group (players may start helpers), if it is still there."""
        try:
            os.killpg(process.pid, number)
        except (ProcessLookupError, PermissionError):
            pass

    def _report(self, kind: str, problem: str) -> None:
        with self._lock:
            known = self._problems.get(kind)
            self._problems[kind] = problem
        if known is None and self.on_problem is not None:
            self.on_problem(problem)
