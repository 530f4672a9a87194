"""Click parameter types shared by `pocket-kiosk` and `pocket-hq`."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from kiosk.readings import temperature_problem


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


class Temperature(click.ParamType):
    """A body temperature in °C, held to the range every other way a reading enters is held to
    (`kiosk.readings`): 'nan', 'inf' or 0 are refused with the keeper's words, not judged."""

    name = "°C"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        reading = click.FLOAT.convert(value, param, ctx)
        if problem := temperature_problem(reading):
            self.fail(problem, param, ctx)
        return reading


TEMPERATURE = Temperature()
