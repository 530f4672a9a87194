"""The one way an age is put into words, at the gate and at HQ."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sync.core.clock import age_text, ago_text


@pytest.mark.parametrize(
    ("age", "words"),
    [
        (timedelta(seconds=-30), "0 s"),
        (timedelta(seconds=5), "5 s"),
        (timedelta(seconds=89.9), "89 s"),
        (timedelta(seconds=90), "1 min"),
        (timedelta(minutes=65), "65 min"),
        (timedelta(minutes=90), "1 h"),
        (timedelta(hours=47, minutes=59), "47 h"),
        (timedelta(hours=48), "2 days"),
        (timedelta(days=10, hours=23), "10 days"),
    ],
)
def test_an_age_is_given_in_the_largest_unit_it_holds_whole(age: timedelta, words: str) -> None:
    assert age_text(age) == words
    assert ago_text(age) == f"{words} ago"


def test_no_age_is_never() -> None:
    assert ago_text(None) == "never"
