"""Time as both programs write and read it: the one timestamp text of the gate's log, of the wire and of HQ's
database, and the one way an age is put into words.

Times are stored as UTC ISO 8601 text with milliseconds (`utc_text`): an entry's `ts` is part of its hash, so
the gate and HQ must write it the same way, and the fixed-width text sorts in time order in SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_text(moment: datetime) -> str:
    """The one timestamp form in the store: UTC, ISO 8601, milliseconds; sorts as text."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")
