"""The app's keys through `kiosk.key_bursts` before anything else sees them: a keyboard-wedge scanner's burst
becomes a scan, typing goes on to the focused field or the screen's keys as it always did.

The app hands every key from the terminal to `ScannerKeys.key` before its bindings and the focused widget see
it. Typed keys come out in order, at most one gap later; a burst never reaches a field or a key binding (a
code's `s` or `q` is not "settings" or "quit"). Whether the last held key is typing or half a code is settled
on the app's next turn and then after each gap, by the injected clock, so nothing waits on a fixed timer.

A key's time is when the terminal driver read it (`Key.time`, on the monotonic clock), not when the app got round
to it: a scanner's burst read while the app was busy drawing (or a decoder thread held the interpreter) keeps the
rhythm it was typed at, instead of gaps that would cut it into half a code. An injected clock (tests) replaces it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual import events
from textual.app import App
from textual.timer import Timer

from kiosk.key_bursts import Action, Dropped, KeyBursts, Release, Scanned


class ScannerKeys:
    def __init__(
        self,
        app: App[object],
        bursts: KeyBursts[events.Key],
        *,
        forward: Callable[[events.Key], Awaitable[None]],
        scanned: Callable[[str], None],
        dropped: Callable[[Dropped], None],
        keys_carry_time: bool = True,
    ) -> None:
        self.app = app
        self.keys_carry_time = keys_carry_time
        self.bursts = bursts
        self.forward = forward
        self.scanned = scanned
        self.dropped = dropped
        self._timer: Timer | None = None
        self._settling = False

    async def key(self, event: events.Key) -> None:
        char = event.character if event.is_printable else None
        at = event.time if self.keys_carry_time else None
        await self._act(self.bursts.press(event, char, enter=event.key == "enter", at=at))
        self._settle_later()

    def _settle_later(self) -> None:
        if not self.bursts.holding or self._settling:
            return
        self._settling = True
        self.app.call_later(self._settle)

    async def _settle(self) -> None:
        self._settling = False
        await self._act(self.bursts.idle())
        if self.bursts.holding:
            # Not settled yet: look again one gap later (a key coming meanwhile settles it first).
            if self._timer is not None:
                self._timer.stop()
            self._timer = self.app.set_timer(self.bursts.max_gap, self._settle_later)

    async def _act(self, actions: list[Action[events.Key]]) -> None:
        for action in actions:
            if isinstance(action, Release):
                for key in action.keys:
                    await self.forward(key)
            elif isinstance(action, Scanned):
                self.scanned(action.text)
            else:
                self.dropped(action)
