"""The district's clock: entries are stored in UTC, staff read and type times in the district's zone.

Tracing windows come from `<input type="datetime-local">` fields ('2024-05-01T08:00', no zone): they are read
in the district's zone. 'Today' starts at the district's midnight. Hourly statistics are kept per UTC hour;
in a zone whose offset is not a whole number of hours, an hour's bar is labelled with its local start.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sync.core.clock import ago_text, utc_text
from sync.hq.stats import hour_of

INPUT_FORMAT = "%Y-%m-%dT%H:%M"


def _system_zone() -> tuple[tzinfo, str]:
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        target = Path("/etc/localtime").resolve()
        if "zoneinfo" in target.parts:
            candidates.append("/".join(target.parts[target.parts.index("zoneinfo") + 1 :]))
    except OSError:
        pass
    for name in candidates:
        if name:
            try:
                return ZoneInfo(name), name
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return UTC, "UTC"


class DistrictClock:
    def __init__(self, zone_name: str | None = None) -> None:
        if zone_name:
            self.zone: tzinfo = ZoneInfo(zone_name)
            self.name = zone_name
        else:
            self.zone, self.name = _system_zone()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def show(self, ts: str | None, seconds: bool = True) -> str:
        """A stored UTC time as the district reads it ('2024-05-01 16:03:12'); text that is not a time is
        shown as it is (escaped by the template), never dropped."""
        if not ts:
            return ""
        try:
            moment = datetime.fromisoformat(ts)
        except ValueError:
            return ts
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return self.local(moment).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")

    def ago(self, ts: str | None, now: datetime | None = None) -> str:
        """'3 min ago', '2 h ago', '5 days ago' (or 'never')."""
        if not ts:
            return "never"
        try:
            moment = datetime.fromisoformat(ts)
        except ValueError:
            return ts
        return ago_text((now or self.now()) - moment)

    def parse(self, text: str, field: str) -> datetime:
        """A time typed in the district's zone ('2024-05-01T08:00' or '2024-05-01 08:00'), in UTC."""
        value = text.strip().replace(" ", "T")
        for form in (INPUT_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
            try:
                naive = datetime.strptime(value, form)
            except ValueError:
                continue
            return naive.replace(tzinfo=self.zone).astimezone(UTC)
        raise ValueError(f"{field}: {text[:40]!r} is not a date and time such as 2024-05-01T08:00")

    def field(self, moment: datetime) -> str:
        """A UTC time as a datetime-local field's value."""
        return self.local(moment).strftime(INPUT_FORMAT)

    def day_start(self, now: datetime | None = None) -> datetime:
        """The district's midnight today, in UTC."""
        local = self.local(now or self.now())
        return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)

    @staticmethod
    def hours(start: datetime, end: datetime) -> list[str]:
        """UTC hour keys from the hour holding `start` to the one holding `end`, inclusive."""
        moment = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        keys = []
        while moment <= end:
            keys.append(hour_of(utc_text(moment)))
            moment += timedelta(hours=1)
        return keys

    def hour_label(self, hour: str) -> str:
        """A UTC hour key as its local start, 'HH:MM'."""
        moment = datetime.fromisoformat(hour + ":00:00+00:00")
        local = self.local(moment)
        return local.strftime("%H:%M") if local.minute else local.strftime("%H")
