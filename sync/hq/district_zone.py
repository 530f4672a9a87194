"""The district's time zone, set once at HQ (`serve --timezone`) and published to every gate in its bundle, so a
keeper reads every time (banner, reasons, log, handover, exports) in the zone HQ's staff read it in.

The zone is kept in HQ's database beside the policy, so every HQ process behind one address publishes the same
one; starting HQ with another zone bumps the district's bundle version, which brings it to every gate at its next
sync. Storage stays UTC everywhere: this only says how times are shown.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select

from sync.hq.db import HqDatabase
from sync.hq.revisions import DISTRICT, bump
from sync.hq.tables import settings

ZONE_KEY = "timezone"


def published_zone(conn: Connection) -> str | None:
    """The zone gates are given (an IANA name), or None when HQ was never started with one."""
    value = conn.execute(select(settings.c.value).where(settings.c.key == ZONE_KEY)).scalar()
    return str(value) if value else None


def publish_zone(db: HqDatabase, name: str | None) -> int | None:
    """Publish `name` to every gate when it is not the zone already published: returns the new bundle version,
    or None when nothing changed (no zone given: the one published, if any, stays)."""
    if not name:
        return None
    with db.begin() as conn:
        if published_zone(conn) == name:
            return None
        conn.execute(delete(settings).where(settings.c.key == ZONE_KEY))
        conn.execute(insert(settings).values(key=ZONE_KEY, value=name))
        return bump(conn, DISTRICT)
