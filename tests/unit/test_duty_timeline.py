"""The duty timeline's arithmetic (`sync.core.duty.duty_timeline`): shares of each hour, carried state, gaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sync.core.duty import DutyKind, duty_timeline

START = datetime(2026, 3, 2, 8, tzinfo=UTC)


def test_a_state_changed_mid_hour_counts_for_its_share_and_carries_on() -> None:
    events = [
        (START - timedelta(days=1), DutyKind.SHIFT_ON),  # before the window: sets the state it opens with
        (START + timedelta(minutes=30), DutyKind.LISTS_STALE),
        (START + timedelta(hours=2, minutes=15), DutyKind.LISTS_FRESH),
    ]

    hours = duty_timeline(events, START, 4)

    assert [(h.keeper, h.lists) for h in hours] == [(1.0, 0.5), (1.0, 0.0), (1.0, 0.75), (1.0, 1.0)]
    assert [h.gap for h in hours] == [True, True, True, False]


def test_without_events_no_keeper_is_signed_in_and_every_hour_is_a_gap() -> None:
    hours = duty_timeline([], START, 3)

    assert all(h.keeper == 0.0 and h.camera == 1.0 and h.lists == 1.0 and h.gap for h in hours)


def test_events_after_the_window_change_nothing_in_it() -> None:
    events = [(START, DutyKind.SHIFT_ON), (START + timedelta(hours=5), DutyKind.CAMERA_LOST)]

    assert [h.gap for h in duty_timeline(events, START, 2)] == [False, False]
