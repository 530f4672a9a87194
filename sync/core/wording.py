"""Reasons as data: a rule code with its parameters, worded when shown, in the reader's language and time zone.

A rule says why with a `Wording` (its code, a short label that refusals are counted by, and its sentence, both
in English and marked for translation) called with the particulars: `TOO_HIGH(celsius=37.8, limit=37.3)`. That
gives a `Because`: the sentence in English, as gates have always logged and sent it (the `reasons` column, which
older HQs and every CSV reader understand), carrying its code and parameters (the `reason_codes` column), from
which each screen words it again with `say()`: Chinese for a Chinese keeper, times in the district's zone.

Entries logged before reasons had codes hold only the English sentence. Because every sentence is the English
template filled in, `understood()` reads such a sentence back into its code and parameters with a pattern made
from the same template, so old entries are worded and counted like new ones; a sentence no wording matches (a
newer gate's rule, free text) is shown as it was logged.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, Union

from sync.core.i18n import N_, _

Param = Union[str, int, float, bool, None, "Because"]
TIME_FORMAT = "%Y-%m-%d %H:%M"
"""How a time in a reason reads: to the minute, in the reader's zone (in UTC, with ' UTC', in the logged text)."""

WORDINGS: dict[str, Wording] = {}
"""Every wording by code, registered as its module is imported."""

N_("{reason}: {detail}")


class Because(str):
    """A reason: its English sentence (what `str` gives), and the code and parameters it was worded from."""

    code: str | None
    params: dict[str, Param]

    def __new__(cls, text: str, code: str | None = None, params: Mapping[str, Param] | None = None) -> Because:
        made = super().__new__(cls, text)
        made.code = code
        made.params = dict(params or {})
        return made

    def data(self) -> dict[str, Any]:
        """The code and parameters as JSON-ready data (nested reasons as their own data)."""
        return {
            "code": self.code,
            "params": {k: v.data() if isinstance(v, Because) else v for k, v in self.params.items()},
        }


@dataclass(frozen=True)
class Wording:
    """How one reason code is said. `text` is an English template (`str.format` fields name the parameters);
    `times` are parameters holding a moment (UTC ISO text), shown in the reader's zone; `words` are parameters
    whose value is itself a word to translate (a colour, a kind of pass)."""

    code: str
    label: str
    """What refusals of this code are counted as ('temperature too high'), marked with N_()."""
    text: str
    """The sentence, marked with N_(); its English is exactly what the gate logs."""
    times: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    counted_as: str | None = None
    """The code refusals of this one are counted with, when it is a variant of another (None: its own)."""
    alone: bool = True
    """Whether it is a reason of its own (False for the parts a reason names, such as a certificate's test)."""
    detail: bool = False
    """Whether a technical detail (untranslated: a decoder's words, a key id) may follow after a colon."""
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)
    fixed: int = field(init=False, repr=False, compare=False)
    """How many characters of the sentence are the template's own: of two wordings that read a sentence back,
    the one that fixes more of it is meant."""

    def __post_init__(self) -> None:
        if self.code in WORDINGS:
            raise ValueError(f"reason code {self.code} is worded twice")
        WORDINGS[self.code] = self
        object.__setattr__(self, "_pattern", _pattern_of(self.text, self.detail))
        literal = sum(len(text) for text, *_rest in string.Formatter().parse(self.text))
        object.__setattr__(self, "fixed", literal)

    def __call__(self, **params: Param | datetime) -> Because:
        """This reason with these particulars (times as aware datetimes), its sentence in English."""
        stored = {k: _stored(v) for k, v in params.items()}
        return Because(self.render(stored, english=True), self.code, stored)

    def render(self, params: Mapping[str, Param], *, english: bool = False, zone: tzinfo | None = None) -> str:
        """The sentence in the language spoken now (in English with `english`), times in `zone` (None: UTC)."""
        speak = (lambda text: text) if english else _
        values: dict[str, Any] = {}
        for name, value in params.items():
            if name in self.times and isinstance(value, str):
                values[name] = time_text(datetime.fromisoformat(value), None if english else zone)
            elif isinstance(value, Because):
                inner = WORDINGS.get(value.code or "")
                values[name] = inner.render(value.params, english=english, zone=zone) if inner else str(value)
            elif name in self.words and isinstance(value, str):
                values[name] = speak(value)
            else:
                values[name] = value
        detail = values.pop("detail", None)
        try:
            text = speak(self.text).format(**values)
        except (KeyError, IndexError, ValueError):
            text = self.text.format_map(_Missing(values)) if english else self.render(params, english=True)
        if self.detail and detail:
            return speak("{reason}: {detail}").format(reason=text, detail=detail)
        return text

    def understood(self, text: str) -> Because | None:
        """An English sentence this wording made (an entry logged before codes), as its reason; else None."""
        found = self._pattern.fullmatch(text)
        if found is None:
            return None
        params: dict[str, Param] = {}
        for name, value in found.groupdict().items():
            if value is None:
                continue
            if name in self.times:
                moment = datetime.strptime(value.removesuffix(" UTC"), TIME_FORMAT).replace(tzinfo=UTC)
                params[name] = moment.isoformat()
            else:
                params[name] = _number(value)
        return Because(text, self.code, params)


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _stored(value: Param | datetime) -> Param:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def _number(text: str) -> Param:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def _pattern_of(template: str, detail: bool) -> re.Pattern[str]:
    parts = []
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is not None:
            parts.append(f"(?P<{name}>.+?)")
    tail = "(?:: (?P<detail>.+))?" if detail else ""
    return re.compile("".join(parts) + tail, re.DOTALL)


def time_text(moment: datetime, zone: tzinfo | None) -> str:
    """A moment as reasons give it: '2026-11-23 16:00' in `zone`, or '2026-11-23 08:00 UTC' without one."""
    if zone is None:
        return f"{moment.astimezone(UTC):{TIME_FORMAT}} UTC"
    return f"{moment.astimezone(zone):{TIME_FORMAT}}"


def say(reason: str, zone: tzinfo | None = None) -> str:
    """A reason in the language spoken now, times in `zone`: from its code when it has one this version knows,
    else from the English sentence read back (`understood`), else the sentence as logged."""
    found = reason if isinstance(reason, Because) and reason.code in WORDINGS else understood(reason)
    if found is None or found.code is None:
        return str(reason)
    return WORDINGS[found.code].render(found.params, zone=zone)


def understood(text: str) -> Because | None:
    """A logged sentence as the reason it words (an old entry's), or None when no wording made it."""
    if isinstance(text, Because) and text.code in WORDINGS:
        return text
    matches = [
        found
        for wording in WORDINGS.values()
        if wording.alone and (found := wording.understood(str(text))) is not None
    ]
    return max(matches, key=lambda found: WORDINGS[found.code or ""].fixed, default=None)


def label(reason: str) -> tuple[str, str] | None:
    """(code, label in the language spoken now) of a reason, or None when it has no code this version knows."""
    found = understood(reason)
    if found is None or found.code is None:
        return None
    wording = WORDINGS[found.code]
    counted = WORDINGS.get(wording.counted_as or "", wording)
    return counted.code, _(counted.label)


def codes_json(reasons: Sequence[str]) -> str | None:
    """The `reason_codes` column: JSON of each reason's code and parameters, or None when no reason has one."""
    if not any(isinstance(r, Because) and r.code for r in reasons):
        return None
    data = [r.data() if isinstance(r, Because) else {"code": None, "params": {}} for r in reasons]
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _loaded(text: str, data: Any) -> Because:
    if not isinstance(data, dict) or not isinstance(data.get("code"), (str, type(None))):
        return Because(text)
    raw = data.get("params")
    params: dict[str, Param] = {}
    for key, value in (raw.items() if isinstance(raw, dict) else ()):
        if isinstance(value, dict):
            params[str(key)] = _loaded("", value)
        elif isinstance(value, (str, int, float, bool)) or value is None:
            params[str(key)] = value
    return Because(text, data["code"], params)


def with_codes(texts: Sequence[str], codes: str | None) -> list[str]:
    """An entry's reasons as logged (English sentences) joined with their codes (the `reason_codes` column, if
    any): each a `Because` when its code came along. A damaged or foreign column leaves the sentences alone."""
    if not codes:
        return list(texts)
    try:
        data = json.loads(codes)
    except ValueError:
        return list(texts)
    if not isinstance(data, list) or len(data) != len(texts):
        return list(texts)
    return [_loaded(text, item) for text, item in zip(texts, data, strict=True)]
