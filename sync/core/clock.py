"""Time as both programs write and read it: the one timestamp text of the gate's log, of the wire and of HQ's
database, and the one way an age is put into words.

Times are stored as UTC ISO 8601 text with milliseconds (`utc_text`): an entry's `ts` is part of its hash, so
the gate and HQ must write it the same way, and the fixed-width text sorts in time order in SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sync.core.i18n import _


def utc_text(moment: datetime) -> str:
    """The one timestamp form in the store: UTC, ISO 8601, milliseconds; sorts as text."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def age_text(age: timedelta) -> str:
    """An age in words, in the largest unit it holds whole: '5 s', '12 min', '3 h', '2 days' (seconds under a
    minute and a half, minutes under an hour and a half, hours under two days). Every age a gate keeper or an
    HQ operator reads is put this way; an age below zero (a clock set back) is '0 s'."""
    seconds = max(int(age.total_seconds()), 0)
    if seconds < 90:
        return _("{n} s").format(n=seconds)
    if seconds < 90 * 60:
        return _("{n} min").format(n=seconds // 60)
    if seconds < 48 * 3600:
        return _("{n} h").format(n=seconds // 3600)
    return _("{n} days").format(n=seconds // 86400)


def ago_text(age: timedelta | None) -> str:
    """'5 s ago', '3 h ago', '2 days ago' (see `age_text`), or 'never' when there is no age (never happened)."""
    return _("never") if age is None else _("{age} ago").format(age=age_text(age))
