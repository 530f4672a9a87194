"""How `pocket-hq`'s commands fail: HQ's own errors as one readable line and exit status 1, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import click
from pydantic import ValidationError

from sync.core.i18n import _
from sync.core.bundle import SigningKeyError
from sync.core.identity import DistrictKeyError
from sync.core.roster_csv import RosterError
from sync.core.tls import CertificateError
from sync.hq import gates as gate_admin
from sync.hq import lists, staff
from sync.hq.db import DatabaseError

P = ParamSpec("P")
R = TypeVar("R")
HQ_ERRORS = (
    DatabaseError,
    SigningKeyError,
    gate_admin.GateError,
    lists.ListError,
    RosterError,
    DistrictKeyError,
    staff.StaffError,
    CertificateError,
)




def hq_errors(func: Callable[P, R]) -> Callable[P, R]:
    """HQ's own errors become `Error: ...` and exit status 1, never a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except HQ_ERRORS as exc:
            raise click.ClickException(str(exc)) from exc
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise click.ClickException(_("invalid setting: {problems}").format(problems=problems)) from exc

    return wrapper
