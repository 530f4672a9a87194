"""A keyboard-wedge scanner told from typing by the rhythm of the keys (kiosk.key_bursts), on an injected clock."""

from __future__ import annotations

from kiosk.key_bursts import Dropped, KeyBursts, Release, Scanned


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def press_all(bursts: KeyBursts[str], clock: Clock, text: str, gap: float, *, enter: bool = True) -> list[object]:
    actions: list[object] = []
    for char in text:
        clock.now += gap
        actions += bursts.press(char, char)
    if enter:
        clock.now += gap
        actions += bursts.press("enter", None, enter=True)
    return actions


def test_a_fast_run_ending_with_enter_is_one_scan_and_nothing_is_typed() -> None:
    clock = Clock()
    bursts: KeyBursts[str] = KeyBursts(clock)
    assert press_all(bursts, clock, "PGC1:ABC123", 0.004) == [Scanned("PGC1:ABC123")]
    assert not bursts.holding


def test_typing_is_released_in_order_one_key_behind_and_enter_passes() -> None:
    clock = Clock()
    bursts: KeyBursts[str] = KeyBursts(clock)
    actions = press_all(bursts, clock, "11010519491231002X", 0.12)
    typed = [key for action in actions if isinstance(action, Release) for key in action.keys]
    assert typed == [*"11010519491231002X", "enter"]


def test_a_rolled_pair_of_keys_within_typing_is_still_typing() -> None:
    clock = Clock()
    bursts: KeyBursts[str] = KeyBursts(clock)
    actions = press_all(bursts, clock, "ab", 0.2, enter=False) + press_all(bursts, clock, "cd", 0.01, enter=False)
    clock.now += 0.2
    actions += bursts.idle()
    assert [key for action in actions if isinstance(action, Release) for key in action.keys] == list("abcd")


def test_the_last_typed_key_waits_one_gap_then_comes_out() -> None:
    clock = Clock()
    bursts: KeyBursts[str] = KeyBursts(clock, max_gap=0.05)
    assert bursts.press("m", "m") == []
    assert bursts.holding and bursts.idle() == []  # no time has passed: it may be a scanner's first key
    clock.now += 0.051
    assert bursts.idle() == [Release(("m",))]
    assert not bursts.holding


def test_half_a_code_without_enter_is_dropped_not_typed() -> None:
    clock = Clock()
    bursts: KeyBursts[str] = KeyBursts(clock)
    assert press_all(bursts, clock, "PGC1:ABCDEFGH", 0.003, enter=False) == []
    clock.now += 0.5
    assert bursts.idle() == [Dropped(13, flood=False)]
    # A fast run cut by Tab is half a code too; the Tab itself still goes on.
    actions = press_all(bursts, clock, "ABCDEFGHIJ", 0.003, enter=False)
    clock.now += 0.003
    assert actions + bursts.press("tab", None) == [Dropped(10, flood=False), Release(("tab",))]


def test_a_flooding_scanner_is_dropped_once_and_the_keys_after_it_are_typing_again() -> None:
    clock = Clock()
    bursts: KeyBursts[str] = KeyBursts(clock, max_chars=50)
    assert press_all(bursts, clock, "X" * 400, 0.002, enter=False) == []
    clock.now += 1
    assert bursts.press("a", "a") == [Dropped(400, flood=True)]
    clock.now += 1
    assert bursts.press("enter", None, enter=True) == [Release(("a",)), Release(("enter",))]


def test_short_fast_runs_are_typing_not_codes() -> None:
    clock = Clock()
    bursts: KeyBursts[str] = KeyBursts(clock)
    actions = press_all(bursts, clock, "1111", 0.003)
    assert actions == [Release(tuple("1111")), Release(("enter",))]


def test_a_burst_is_judged_by_when_its_keys_were_pressed_not_when_they_were_handled() -> None:
    clock = Clock()
    bursts: KeyBursts[str] = KeyBursts(clock)
    actions: list[object] = []
    for number, char in enumerate("PGC1:ABC123"):
        clock.now += 0.2  # the app was busy drawing: each key handled long after the one before
        actions += bursts.press(char, char, at=number * 0.004)
    clock.now += 0.2
    actions += bursts.press("enter", None, enter=True, at=11 * 0.004)
    assert actions == [Scanned("PGC1:ABC123")]
