"""Refusal reasons by kind: the one grouping the gate's handover summary and HQ's dashboard both count by, so a
shift's 'refused or held: temperature too high' and the district's bar of that name count the same thing.

A reason is plain words with particulars in them ("temperature 38.2 °C (limit below 37.3 °C)", "code has
expired: valid until 2026-11-23 08:00 UTC"). Its kind drops the details in parentheses, what follows a colon and
the numbers ("trust list is N h old"); two kinds whose numbers are all they say are put in words. Reasons come
from gates, so the text is made printable and bounded too.
"""

from __future__ import annotations

import json
import re

_PARENTHESES = re.compile(r"\s*\([^()]*\)")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
MAX_KIND_CHARS = 120


def reason_kind(reason: str) -> str:
    """A reason without its particulars, so refusals of one kind count together: 'code has expired: valid until
    ...' -> 'code has expired', 'temperature 37.9 °C (limit ...)' -> 'temperature too high'."""
    if reason.startswith("temperature ") and "limit" in reason:
        return "temperature too high"
    if reason.startswith("negative test is "):
        return "negative test too old"
    text = _PARENTHESES.sub("", reason).split(": ", 1)[0].split(" (", 1)[0]
    text = _NUMBER.sub("N", text)
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return text[:MAX_KIND_CHARS] or "(no reason given)"


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
