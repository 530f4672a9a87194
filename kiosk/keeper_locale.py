"""The keeper's language and the district's time zone, chosen once per run of a gate program.

The language is `--lang`, else `language` in kiosk.toml, else the machine's locale, else English
(`sync.core.i18n.choose`). The zone is the district's, as HQ's bundle last said it; until the gate is enrolled,
`timezone` in kiosk.toml; else the laptop's own. Storage stays UTC: only what a person reads is in this zone.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sync.core.i18n import CORE, Domain, Speaker, choose, use

KIOSK = Domain("kiosk", Path(__file__).with_name("locale"))
DOMAINS = (KIOSK, CORE)
"""The gate's catalogs: its own, then the core's (reasons, rules, readings)."""
ZONE_META = "district_timezone"
"""Where the gate database keeps the zone HQ's bundle set (`kiosk.uplink.state`)."""

_zone: list[tzinfo | None] = [None]


def speak(*wanted: str | None) -> Speaker:
    """Speak the first of `wanted` there is a catalog for (else the system's language, else English)."""
    return use(choose(*wanted), DOMAINS)


def zone_named(name: str | None) -> tzinfo | None:
    """The zone an IANA name names ('Asia/Shanghai'), or None for no name or one this machine does not know."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def set_zone(*names: str | None) -> tzinfo | None:
    """Read times in the first zone of `names` this machine knows (HQ's, then the configured), else the laptop's."""
    for name in names:
        if (found := zone_named(name)) is not None:
            _zone[0] = found
            return found
    _zone[0] = None
    return None


def follow_district(name: str | None) -> None:
    """Read times in the zone HQ's bundle names (`ZONE_META`), when it names one this machine knows; else keep the
    zone chosen at start (the configured `timezone`, else the laptop's)."""
    if (found := zone_named(name)) is not None:
        _zone[0] = found


def zone() -> tzinfo | None:
    """The zone people read times in (None: the laptop's own)."""
    return _zone[0]


def local(moment: datetime) -> datetime:
    return moment.astimezone(_zone[0])


def local_time(ts: str, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A stored UTC timestamp as the keeper reads it: in the district's zone."""
    return local(datetime.fromisoformat(ts)).strftime(fmt)


def local_iso(ts: str) -> str:
    """A stored UTC timestamp in the district's zone as ISO 8601 with its offset (CSV exports)."""
    return local(datetime.fromisoformat(ts)).isoformat(timespec="seconds")
