"""Telling a keyboard-wedge QR scanner from a person typing, by the rhythm of the keys alone.

A USB handheld scanner is a keyboard to the laptop: it "types" the code's text and Enter a few milliseconds
a key, far faster than anyone types. `KeyBursts` holds printable keys back while they keep coming at that
speed; a run of at least `min_chars` fast keys ending with Enter is a scan, whole. Anything slower is typing
and is released, in order, to wherever the keys were going (the keeper waits at most one gap, `max_gap`
seconds, for a key to appear). A fast run that stops without Enter is half a code (the scanner was
interrupted or sends no Enter) and a run past `max_chars` is a flood (a scanner stuck in a loop): both are
dropped and reported, never typed into a field.

It knows nothing of the terminal or the UI: keys are opaque values with their character, and the time of
each comes from an injected monotonic clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sync.core.i18n import _

Key = TypeVar("Key")

MAX_GAP_SECONDS = 0.05
"""Scanners send a key every 1-20 ms; the fastest typists take 60 ms or more between keys, over a whole run."""
MIN_CHARS = 8
"""Shorter fast runs are typing (a rolled pair of keys, a PIN typed briskly), never a code."""
MAX_CHARS = 8192
"""More than a QR code holds (7,089 characters at most): a scanner repeating itself."""


@dataclass(frozen=True)
class Release(Generic[Key]):
    """These keys were typed by a person: pass them on, in this order."""

    keys: tuple[Key, ...]


@dataclass(frozen=True)
class Scanned:
    """A whole burst ending with Enter: the text a scanner read (its Enter is consumed)."""

    text: str


@dataclass(frozen=True)
class Dropped:
    """A fast run that is not a whole code: `partial` (it stopped without Enter) or a flood. Nothing is typed."""

    chars: int
    flood: bool

    def describe(self) -> str:
        """What the keeper is told."""
        if self.flood:
            text = _("The scanner sent {chars} characters without a stop: ignored, nothing logged. Check the scanner.")
        else:
            text = _("The scanner sent part of a code ({chars} characters, no end): nothing logged. Scan it again.")
        return text.format(chars=self.chars)


Action = Release[Key] | Scanned | Dropped


class KeyBursts(Generic[Key]):
    """See the module docstring. Feed every key with `press`; call `idle` when no key came for a while."""

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        max_gap: float = MAX_GAP_SECONDS,
        min_chars: int = MIN_CHARS,
        max_chars: int = MAX_CHARS,
    ) -> None:
        self.clock = clock
        self.max_gap = max_gap
        self.min_chars = min_chars
        self.max_chars = max_chars
        self._held: list[tuple[Key, str]] = []
        self._last = float("-inf")
        self._flooding = 0
        """Keys dropped so far in a flood that is still going on (0: none)."""

    @property
    def holding(self) -> bool:
        """Whether keys are held back (or a flood is being dropped): `idle` should be called after `max_gap`."""
        return bool(self._held) or self._flooding > 0

    def press(self, key: Key, char: str | None, *, enter: bool = False, at: float | None = None) -> list[Action[Key]]:
        """One key: `char` is the printable character it types (None for Tab, arrows, Backspace...), `enter`
        whether it is Enter, `at` when it was pressed on the clock's scale (default: now). Returns what to do,
        in order."""
        now = self.clock() if at is None else at
        fast = now - self._last <= self.max_gap
        self._last = now
        actions: list[Action[Key]] = []
        if not fast:
            actions += self._settle()
        if self._flooding:
            if enter:
                self._flooding = 0
            elif char is not None:
                self._flooding += 1
            return actions
        if enter:
            if len(self._held) >= self.min_chars:
                actions.append(Scanned("".join(char for _, char in self._held)))
                self._held = []
                return actions
            return [*actions, *self._release(), Release((key,))]
        if char is None:
            return [*actions, *self._settle(), Release((key,))]
        self._held.append((key, char))
        if len(self._held) > self.max_chars:
            self._flooding = len(self._held)
            self._held = []
        return actions

    def idle(self) -> list[Action[Key]]:
        """No key came for a while: settle what is held once the last key is more than one gap old."""
        if self.clock() - self._last <= self.max_gap:
            return []
        return self._settle()

    def _settle(self) -> list[Action[Key]]:
        """The held run is over: typing is released, a run of scanner speed is half a code, dropped."""
        if self._flooding:
            chars, self._flooding = self._flooding, 0
            return [Dropped(chars, flood=True)]
        if len(self._held) >= self.min_chars:
            chars, self._held = len(self._held), []
            return [Dropped(chars, flood=False)]
        return self._release()

    def _release(self) -> list[Action[Key]]:
        if not self._held:
            return []
        keys, self._held = tuple(key for key, _ in self._held), []
        return [Release(keys)]
