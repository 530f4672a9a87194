"""Click parameter types shared by `pocket-kiosk` and `pocket-hq`."""

from __future__ import annotations

from datetime import UTC, datetime

import click


class UtcTime(click.ParamType):
    """An ISO 8601 time; one without an offset is taken as UTC."""

    name = "TIME"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 time such as 2026-11-23T08:00:00Z", param, ctx)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


UTC_TIME = UtcTime()
