"""The message catalogs (sync/core/catalogs.py): every message a person reads has its Simplified Chinese words,
and every catalog compiles into what gettext reads; a catalog that does not is refused with its line."""

from __future__ import annotations

import gettext
import re
import shutil
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.pofile import PoFileError, read_po

from sync.core import catalogs
from sync.core.catalogs import SOURCES, Source, compiled, problems
from sync.core.i18n import LANGUAGES

DOMAINS = [pytest.param(source, id=source.domain) for source in SOURCES]


@pytest.mark.parametrize("source", DOMAINS)
def test_every_message_in_the_code_has_its_zh_CN_translation(
    source: Source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Extracted afresh from the sources (not from the committed template, which may lag behind the code): a
    string marked with _() and not yet in zh_CN, or in it untranslated, fuzzy or with other placeholders, fails."""
    monkeypatch.chdir(catalogs.ROOT)
    template = tmp_path / f"{source.domain}.pot"
    catalogs.extract(source, into=template)
    with template.open("rb") as handle:
        wanted = {message.id for message in read_po(handle) if message.id}
    translated = {message.id for message in catalogs.read(source, "zh_CN") if message.id}

    assert sorted(map(str, wanted - translated)) == [], "run python -m sync.core.catalogs update, then translate"
    assert problems(source, "zh_CN") == []
    assert problems(source, "en") == []


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("source", DOMAINS)
def test_every_catalog_compiles_into_what_gettext_reads(source: Source, language: str) -> None:
    translations = gettext.GNUTranslations(BytesIO(compiled(source, language)))

    for message in catalogs.read(source, language):
        if message.id and not isinstance(message.id, tuple) and message.string:
            assert translations.gettext(message.id) == message.string


def test_a_catalog_that_does_not_compile_is_refused_with_its_line(tmp_path: Path) -> None:
    broken = Source("core", ("sync/core",), str(tmp_path / "locale"))
    po = broken.po("zh_CN")
    po.parent.mkdir(parents=True)
    shutil.copy(SOURCES[0].po("zh_CN"), po)
    with po.open("a", encoding="utf-8") as handle:
        handle.write('\nmsgid "a message whose translation was lost in a bad merge"\n')  # no msgstr

    with pytest.raises(PoFileError, match="missing msgstr"):
        compiled(broken, "zh_CN")


def test_a_translation_that_loses_a_placeholder_is_a_problem(tmp_path: Path) -> None:
    changed = Source("core", ("sync/core",), str(tmp_path / "locale"))
    po = changed.po("zh_CN")
    po.parent.mkdir(parents=True)
    original = SOURCES[0].po("zh_CN").read_text(encoding="utf-8")
    lost, count = re.subn(r'(msgid "\{reason\}: \{detail\}"\nmsgstr )"[^"\n]*"', r'\1"{reason}"', original)
    assert count == 1
    po.write_text(lost, encoding="utf-8")

    assert any("{fields}" in problem for problem in problems(changed, "zh_CN"))
