"""The language HQ speaks to each reader: the staff account's own choice, else the district's (`serve
--language`), else the server's locale, else English; the catalogs are HQ's own, then the core's."""

from __future__ import annotations

from pathlib import Path

from sync.core.i18n import CORE, Domain, choose

HQ = Domain("hq", Path(__file__).with_name("locale"))
DOMAINS = (HQ, CORE)


def reader_language(own: str | None, district: str | None) -> str:
    """The language one reader gets: their account's, else the district's, else the locale's, else English."""
    return choose(own, district)
