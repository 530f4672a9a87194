"""What `pocket-kiosk`'s commands print: each record as a JSON line or a line of text, and the gate's own errors
as one readable line with a non-zero exit, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import click

from kiosk.camera import SourceError
from kiosk.config import ConfigError
from kiosk.operators import OperatorError
from kiosk.store import StoreError
from sync.core.codes.trust import TrustError
from sync.core.identity import DistrictKeyError
from sync.core.policy import PolicyError
from sync.core.roster_csv import RosterError

P = ParamSpec("P")
R = TypeVar("R")
EXPECTED_ERRORS = (
    ConfigError,
    PolicyError,
    TrustError,
    DistrictKeyError,
    SourceError,
    StoreError,
    RosterError,
    OperatorError,
)



def friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the gate's own errors into `Error: ...` and exit status 2."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except EXPECTED_ERRORS as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def emit(record: dict[str, Any], as_json: bool, human: str) -> None:
    click.echo(json.dumps(record, ensure_ascii=True) if as_json else human)
