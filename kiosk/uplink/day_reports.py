"""Daily reconciliation, the gate's side: the counts of each day this gate has finished and uploaded whole, sent to
HQ after the upload (`DayReport`), so HQ's dashboard sets them beside its own counts for the gate and day.

The counts are `kiosk.shift.day_tally`'s, the very function `pocket-kiosk report --day` prints, over the day's
window in the district's zone (the one HQ's bundle names, else the configured `timezone`, else the laptop's); the
window travels with the counts, so HQ counts the same span whatever zone it runs in.

A day is reported once it is over and every entry of it is held by HQ (its last entry at or before
`SyncRecord.held_through`: an entry HQ refused holds the day back until it is retried or dismissed). Days go in
order, each once (`SyncState.days_reported_through`); a gate reporting for the first time starts `FIRST_DAYS`
back, and never before its first entry. A day retention may have purged entries of is not reported: its counts
would be short.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo

from kiosk.config import KioskConfig
from kiosk.keeper_locale import ZONE_META, zone_named
from kiosk.shift import day_tally, day_window
from kiosk.uplink.state import SyncState
from sync.core.clock import utc_text
from sync.core.protocol import MAX_DAYS_REPORTED, DayCount, DayReport

FIRST_DAYS = 7
"""How many finished days a gate's first report covers (the dashboard shows a fortnight)."""


def district_zone(config: KioskConfig, state: SyncState) -> tzinfo | None:
    """The zone the gate's days run in: HQ's (from the last bundle), else the configured one, else None (the
    laptop's)."""
    return zone_named(state.store.get_meta(ZONE_META)) or zone_named(config.timezone)


def due_report(config: KioskConfig, state: SyncState, now: datetime) -> DayReport | None:
    """The days finished by `now` and uploaded whole that HQ has not had yet, with their counts; None if none."""
    tz = district_zone(config, state)
    today = now.astimezone(tz).date()
    reported = state.days_reported_through()
    back = FIRST_DAYS if reported is None else MAX_DAYS_REPORTED
    first = max(
        today - timedelta(days=min(back, config.retention_days - 1)),
        reported + timedelta(days=1) if reported is not None else date.min,
    )
    with state.store.reading() as db:
        oldest = db.execute("SELECT min(ts) FROM entries").fetchone()[0]
    if oldest is None:
        return None
    first = max(first, datetime.fromisoformat(oldest).astimezone(tz).date())
    held = state.record().held_through
    days: list[DayCount] = []
    day = first
    while day < today and len(days) < MAX_DAYS_REPORTED:
        start, end = day_window(day, tz)
        if _last_seq(state, start, end) > held:
            break
        tally = day_tally(config.database, day, tz)
        days.append(
            DayCount(
                day=day.isoformat(),
                start=start.astimezone(UTC),
                end=end.astimezone(UTC),
                attempts=tally.attempts,
                let_in=tally.entered,
                left=tally.left,
                refused=tally.refused,
                held=tally.held,
            )
        )
        day += timedelta(days=1)
    return DayReport(gate=config.gate_id, days=days) if days else None


def _last_seq(state: SyncState, start: datetime, end: datetime) -> int:
    """The highest sequence number logged in [start, end) (0: none)."""
    with state.store.reading() as db:
        found = db.execute(
            "SELECT max(seq) FROM entries WHERE ts >= ? AND ts < ?", [utc_text(start), utc_text(end)]
        ).fetchone()[0]
    return int(found or 0)
