"""Body temperatures: the one range every way a reading enters is held to, defined here once.

A reading comes from a keeper's typing (the kiosk's forms), a command line (`scan --temperature`, `check
--temperature`), a gate's upload to HQ (`sync.core.protocol.WireEntry`), and is judged by the policy and written to
the hash chain. Outside 30-45 °C it is a typing or thermometer mistake, not a person's temperature; and NaN,
the infinities and -0.0 are not even storable: SQLite and JSON give back something else, and the entry would
look edited to `verify` and to HQ. So each of those places refuses what `temperature_problem` names, with the
same words, and the pydantic type `BodyTemperature` carries the same bounds for models.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from sync.core.i18n import _

LOWEST_C = 30.0
HIGHEST_C = 45.0

BodyTemperature = Annotated[float, Field(ge=LOWEST_C, le=HIGHEST_C, allow_inf_nan=False)]
"""A reading in °C as models take it: a finite number within the range."""


def temperature_problem(temperature: float | None) -> str | None:
    """Why `temperature` cannot be a person's temperature in °C, in the keeper's words; None when it can be
    (or when none was taken). NaN fails every comparison, so it is out of range too."""
    if temperature is not None and not LOWEST_C <= temperature <= HIGHEST_C:
        return _("a temperature between {low:g} and {high:g} °C, please (was {reading:g})").format(
            low=LOWEST_C, high=HIGHEST_C, reading=temperature
        )
    return None
