"""The project's message catalogs, kept with Babel: `python -m sync.core.catalogs update|compile|check`.

Three domains, each extracted from its own sources into `<package>/locale/<domain>.pot` and merged into the
`zh_CN` and `en` catalogs beside it: `core` (sync/core: reasons, rules, readings, what both programs say alike),
`kiosk` (the gate program) and `hq` (the HQ program, its dashboard templates included). The `.po` files are the
source and are committed; the `.mo` files are compiled from them by `./install.sh` (`compile`), never committed,
so that a change is reviewed once, as text, and parallel branches never conflict over a binary file.

`update` after changing a marked string (then translate what it marks new or fuzzy in `zh_CN`); `check` says
what is untranslated, fuzzy or not compiled (the test suite runs the same checks).
"""

from __future__ import annotations

import os
import sys
from string import Formatter
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import click
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from sync.core.i18n import LANGUAGES, SOURCE_LANGUAGE

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = ("_", "N_", "ngettext:1,2")


@dataclass(frozen=True)
class Source:
    """One domain: its name, the folders its messages are extracted from, and its `locale` folder."""

    domain: str
    paths: tuple[str, ...]
    locale: str

    @property
    def folder(self) -> Path:
        return ROOT / self.locale

    @property
    def template(self) -> Path:
        return self.folder / f"{self.domain}.pot"

    def po(self, language: str) -> Path:
        return self.folder / language / "LC_MESSAGES" / f"{self.domain}.po"

    def mo(self, language: str) -> Path:
        return self.folder / language / "LC_MESSAGES" / f"{self.domain}.mo"


SOURCES = (
    Source("core", ("sync/core",), "sync/core/locale"),
    Source("kiosk", ("kiosk",), "kiosk/locale"),
    Source("hq", ("sync/hq",), "sync/hq/locale"),
)


def _pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def extract(source: Source, into: Path | None = None) -> None:
    """Every marked string of the domain's sources into its template (or the file `into`), located by file only
    (line numbers would change the catalogs with every edit of the code around them). Run from the repository's
    root, so that the catalogs name their sources relative to it."""
    keywords = [f"--keyword={keyword}" for keyword in KEYWORDS]
    _pybabel(
        "extract", "-F", "pyproject.toml", *keywords, "--no-wrap", "--sort-by-file", "--add-location=file",
        "--project", "Pocket Gate", "--version", "", "--copyright-holder", "Pocket Gate",
        "-o", str(into or source.template.relative_to(ROOT)), *source.paths,
    )


def merge(source: Source, language: str) -> None:
    if not source.po(language).exists():
        _pybabel("init", "-i", str(source.template), "-d", str(source.folder), "-D", source.domain, "-l", language,
                 "--no-wrap")
        return
    _pybabel("update", "-i", str(source.template), "-d", str(source.folder), "-D", source.domain, "-l", language,
             "--no-wrap", "--ignore-obsolete")


def compiled(source: Source, language: str) -> bytes:
    """The `.mo` bytes of one catalog, compiled in memory (fuzzy entries left out, as gettext would). Raises
    PoFileError, naming the line, when the `.po` is not a well-formed catalog."""
    with source.po(language).open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=source.domain, abort_invalid=True)
    out = BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def read(source: Source, language: str) -> Catalog:
    with source.po(language).open("rb") as handle:
        return read_po(handle, locale=language, domain=source.domain)


def problems(source: Source, language: str) -> list[str]:
    """What keeps a catalog from being complete: untranslated or fuzzy messages (English needs none), and
    placeholders a translation lost or invented."""
    catalog = read(source, language)
    found = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        where = f"{_shown(source.po(language))}: {ids[0]!r}"
        if message.fuzzy:
            found.append(f"{where} is fuzzy")
        elif language != SOURCE_LANGUAGE and not all(strings):
            found.append(f"{where} is not translated")
        for check in message.check(catalog):
            found.append(f"{where}: {check}")
        if strings[0] and not message.fuzzy and _fields(ids[0]) != _fields(strings[0]):
            found.append(f"{where}: the translation's {{fields}} are not the message's")
    return found


def _shown(path: Path) -> Path:
    """A catalog's path as the repository names it (absolute when it is elsewhere)."""
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def _fields(text: str) -> set[str]:
    """The names of a brace template's fields ('{celsius:.1f}' is celsius); what `str.format` fills in."""
    try:
        return {name for _literal, name, _spec, _conversion in Formatter().parse(text) if name is not None}
    except ValueError:
        return set()


def stale(source: Source, language: str) -> bool:
    """Whether the compiled `.mo` is missing or says other than its `.po` now does."""
    path = source.mo(language)
    return not path.exists() or path.read_bytes() != compiled(source, language)


@click.group(help="Keep the message catalogs (Babel): extract and merge, compile, check.")
def main() -> None:
    os.chdir(ROOT)  # catalogs name their sources relative to the repository


@main.command("update", help="Extract every marked string into the .pot files and merge them into each .po.")
def update_command() -> None:
    for source in SOURCES:
        extract(source)
        for language in LANGUAGES:
            merge(source, language)
    click.echo("catalogs updated: translate what is new or fuzzy in the zh_CN .po files, then compile")


@main.command("compile", help="Compile every .po into the .mo gettext reads (install.sh runs this).")
def compile_command() -> None:
    for source in SOURCES:
        for language in LANGUAGES:
            source.mo(language).write_bytes(compiled(source, language))
    click.echo(f"compiled {len(SOURCES) * len(LANGUAGES)} catalogs")


@main.command("check", help="Say what is untranslated, fuzzy or not compiled; exit 1 if anything is.")
def check_command() -> None:
    found = [problem for source in SOURCES for language in LANGUAGES for problem in problems(source, language)]
    found += [f"{source.mo(language).relative_to(ROOT)} is not compiled from its .po (run compile)"
              for source in SOURCES for language in LANGUAGES if stale(source, language)]
    for problem in found:
        click.echo(problem)
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
