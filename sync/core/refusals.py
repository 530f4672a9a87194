"""Refusal reasons by kind: the one grouping the gate's handover summary and HQ's dashboard both count by, so a
shift's 'refused or held: temperature too high' and the district's bar of that name count the same thing.

A reason's kind is its rule code (`temperature.too_high`, see `sync.core.wording`), shown as the code's label in
the reader's language (体温过高). A reason no wording of this version made (a newer gate's rule, text from
elsewhere) is counted by its words without particulars: the details in parentheses, what follows a colon and
the numbers dropped ("trust list is N h old"). Reasons come from gates, so that text is made printable and
bounded too.
"""

from __future__ import annotations

import json
import re

from sync.core.i18n import _
from sync.core.wording import WORDINGS, label, with_codes

_PARENTHESES = re.compile(r"\s*\([^()]*\)")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
MAX_KIND_CHARS = 120


def reason_kind(reason: str) -> str:
    """What refusals of this reason are counted as: its rule code ('temperature.too_high'), or for a reason
    without one, its words without particulars ('code has expired: valid until ...' -> 'code has expired')."""
    if (found := label(reason)) is not None:
        return found[0]
    if reason.startswith("temperature ") and "limit" in reason:
        return "temperature too high"
    if reason.startswith("negative test is "):
        return "negative test too old"
    text = _PARENTHESES.sub("", reason).split(": ", 1)[0].split(" (", 1)[0]
    text = _NUMBER.sub("N", text)
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return text[:MAX_KIND_CHARS] or "(no reason given)"


def kind_label(kind: str) -> str:
    """A kind as people read it, in the language spoken now: a code's label, or the words it was counted by."""
    wording = WORDINGS.get(kind)
    return _(wording.label) if wording is not None else kind


def reasons_of(raw: str | None) -> list[str]:
    """An entry's reasons (JSON text of a list of strings, as gates store and send them); text that is not such a
    list is one reason of its own, so nothing a gate sends is dropped from the counts."""
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return [raw]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return [raw]


def entry_reasons(raw: str | None, codes: str | None) -> list[str]:
    """An entry's reasons as logged (its `reasons` column) with their codes (its `reason_codes` column, None for
    entries logged before codes), ready to be worded for a reader (`sync.core.wording.say`)."""
    return with_codes(reasons_of(raw), codes)
