"""Running a typed entry (manual, visitor, temperature) off the UI thread and reporting it as a message.

The gate commits the entry before it returns, so a `VerdictReady` is only ever posted for a logged entry;
a mistyped field comes back as `EntryRejected` and a storage failure as `EntryFailed`, with nothing logged.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.message import Message

from kiosk.gate import EntryInputError, Outcome
from kiosk.store import StoreError
from kiosk.ui.messages import EntryFailed, EntryRejected, VerdictReady
from sync.core.i18n import _


def settle(make: Callable[[], Outcome], origin: str, post: Callable[[Message], object]) -> None:
    try:
        outcome = make()
    except EntryInputError as exc:
        post(EntryRejected(exc))
        return
    except StoreError as exc:
        post(EntryFailed(str(exc)))
        return
    post(VerdictReady(outcome, origin))


def parse_temperature(text: str) -> float | None:
    """'36.6', '36,6' or '' (not taken). Raises EntryInputError with the keeper's words."""
    value = text.strip().replace(",", ".")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise EntryInputError("temperature", _("'{value}' is not a temperature; type it like 36.6").format(value=value)) from None
