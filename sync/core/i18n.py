"""The reader's language: gettext catalogs for both programs, one language per process or per request.

Every string a person reads is written in English in the code, marked for Babel's extraction with `_()` (translated
where it is used) or `N_()` (a constant, translated where it is shown), and looked up in the catalogs of the
domains in use: `core` (reasons, rules, readings: what both programs say alike), then the program's own (`kiosk`
or `hq`), each a folder `locale/<language>/LC_MESSAGES/<domain>.mo` beside its package. English is the language
the code is written in, so a missing translation shows the English words, never nothing.

The gate speaks one language for its whole run (`use()`); HQ speaks each staff account's own, so a page is
rendered inside `speaking()`, which sets the language for the current context only (a contextvar), leaving
other requests alone. Catalogs are compiled by `./install.sh` (`python -m sync.core.catalogs compile`).
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError, negotiate_locale

LANGUAGES = ("zh_CN", "en")
"""The languages there are catalogs for: Simplified Chinese first, English second."""
SOURCE_LANGUAGE = "en"
"""The language the code is written in, shown when nothing else is chosen or a catalog is missing."""
LANGUAGE_NAMES = {"zh_CN": "简体中文", "en": "English"}
"""Each language in its own words, for a control that chooses one."""


@dataclass(frozen=True)
class Domain:
    """One catalog: its name and the `locale` folder it is compiled into."""

    name: str
    folder: Path


CORE = Domain("core", Path(__file__).with_name("locale"))


class Speaker:
    """One language over a chain of domains: the program's own catalog first, then the core's."""

    def __init__(self, language: str, domains: tuple[Domain, ...]) -> None:
        self.language = language
        self.missing: tuple[str, ...] = ()
        """Catalogs that should exist for this language and were not found (not compiled: run ./install.sh)."""
        chain: gettext.NullTranslations = gettext.NullTranslations()
        missing: list[str] = []
        for domain in reversed(domains):
            if language == SOURCE_LANGUAGE:
                continue
            try:
                found = gettext.translation(domain.name, domain.folder, [language])
            except OSError:
                missing.append(str(domain.folder / language / "LC_MESSAGES" / f"{domain.name}.mo"))
                continue
            found.add_fallback(chain)
            chain = found
        self._catalog = chain
        self.missing = tuple(reversed(missing))

    def gettext(self, message: str) -> str:
        return self._catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self._catalog.ngettext(singular, plural, count)


@cache
def speaker(language: str, domains: tuple[Domain, ...]) -> Speaker:
    """The catalogs of `language` over `domains` (read once per process)."""
    return Speaker(language, domains)


def supported(value: str | None) -> str | None:
    """The catalog language a locale name asks for, or None: 'zh_CN.UTF-8', 'zh-CN', 'zh_Hans_CN' and 'zh' are
    zh_CN (Simplified Chinese is the Chinese we have), 'en_GB' is en, 'C' and unknown names are None."""
    if not value:
        return None
    name = value.split(".", 1)[0].split("@", 1)[0].replace("-", "_")
    if name in ("C", "POSIX"):
        return None
    try:
        locale = Locale.parse(name)
    except (ValueError, UnknownLocaleError):
        return None
    if locale.language == "zh":
        return "zh_CN" if locale.script in (None, "Hans") and locale.territory in (None, "CN", "SG") else None
    return negotiate_locale([str(locale), locale.language], LANGUAGES, sep="_")


def system_language() -> str | None:
    """The language the machine's locale asks for (gettext's order: LANGUAGE, LC_ALL, LC_MESSAGES, LANG), when
    there is a catalog for it."""
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value:
            for part in value.split(":"):
                if found := supported(part):
                    return found
            if variable != "LANGUAGE":
                return None
    return None


def choose(*wanted: str | None) -> str:
    """The first of `wanted` there is a catalog for, else the system's language, else English."""
    for value in wanted:
        if found := supported(value):
            return found
    return system_language() or SOURCE_LANGUAGE


_process: list[Speaker] = [Speaker(SOURCE_LANGUAGE, ())]
_context: ContextVar[Speaker | None] = ContextVar("pocket_gate_language", default=None)


def use(language: str, domains: tuple[Domain, ...]) -> Speaker:
    """Speak `language` in this whole process from now on (the gate, a CLI run)."""
    _process[0] = speaker(language, domains)
    return _process[0]


@contextmanager
def speaking(language: str, domains: tuple[Domain, ...]) -> Iterator[Speaker]:
    """Speak `language` in this context only (one HQ request), whatever the process speaks."""
    token = _context.set(speaker(language, domains))
    try:
        yield _context.get() or _process[0]
    finally:
        _context.reset(token)


def speak_here(language: str, domains: tuple[Domain, ...]) -> Speaker:
    """Speak `language` in the current context until it ends (an HQ request's own task), whatever the process
    speaks: for a web framework's dependency, which cannot wrap the handler in `speaking()`."""
    _context.set(speaker(language, domains))
    return current()


def current() -> Speaker:
    return _context.get() or _process[0]


def language() -> str:
    """The language being spoken here and now."""
    return current().language


def _(message: str) -> str:
    """`message` in the language being spoken."""
    return current().gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of a counted phrase for `count` in the language being spoken (Chinese has one form)."""
    return current().ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark a constant for extraction; it is translated where it is shown, with `_()`."""
    return message
