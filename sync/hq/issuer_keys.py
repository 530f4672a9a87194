"""Rotating the issuer key that signs health codes: the new key and the old one are trusted side by side for a
stated overlap (codes already issued keep passing while people fetch new ones), then the old one is withdrawn
from every bundle. An overlap of none withdraws it at once: the way to revoke a key that leaked.

`rotate` makes the new key aside, publishes it and marks the old one's trust document with when it is withdrawn,
and only then puts the new key in the keys folder's place and retires the old one (private and public halves
moved to `retired/`, so nothing signs with it again and `pocket-hq trust add` of the folder never publishes it
again); if publishing fails, the folder is as it was. `withdraw_due` removes what is due from what HQ publishes,
with a new bundle version, so online gates stop trusting the old key within seconds; running HQ does it every
minute, once across its processes (the `withdraw-keys` job of `sync.hq.background`).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, delete, select, update

from sync.core.clock import utc_text
from sync.core.codes.keys import PRIVATE_KEY_FILE, TRUST_SUBDIR, create_issuer_key_pair, load_issuer_key
from sync.core.codes.trust import PUBLIC_KEY_SUFFIX
from sync.core.protocol import ISSUER_PUBLIC_KEY
from sync.hq import lists
from sync.hq.db import HqDatabase
from sync.hq.revisions import DISTRICT, bump
from sync.hq.tables import trust_documents

RETIRED_SUBDIR = "retired"
STAGING_SUBDIR = ".rotating"


@dataclass(frozen=True)
class IssuerRotation:
    old_kid: str
    new_kid: str
    withdraw_at: str
    withdrawn: bool
    """The old key is already out of every bundle (no overlap)."""
    version: int


def rotate(db: HqDatabase, folder: Path, overlap: timedelta, now: datetime | None = None) -> IssuerRotation:
    """Replace the folder's issuer key with a new one of the same algorithm; trust both until `now + overlap`."""
    moment = now or datetime.now(UTC)
    old = load_issuer_key(folder)
    old_kid = old.kid.hex()
    staging = folder / STAGING_SUBDIR
    shutil.rmtree(staging, ignore_errors=True)  # what an interrupted rotation left: never published
    try:
        new_kid = create_issuer_key_pair(staging, "Ed25519" if old.alg == -8 else "ES256").hex()
        old_public = folder / TRUST_SUBDIR / f"{old_kid}{PUBLIC_KEY_SUFFIX}"
        new_public = staging / TRUST_SUBDIR / f"{new_kid}{PUBLIC_KEY_SUFFIX}"
        published = lists.trust_documents_from([old_public, new_public])
        withdraw_at = utc_text(moment + overlap)
        lists.add_trust(db, published)
        with db.begin() as conn:
            conn.execute(
                update(trust_documents)
                .where(trust_documents.c.type == ISSUER_PUBLIC_KEY, trust_documents.c.id == old_kid)
                .values(withdraw_at=withdraw_at)
            )
            version = bump(conn, DISTRICT)
        retired = folder / RETIRED_SUBDIR
        retired.mkdir(mode=0o700, exist_ok=True)
        os.replace(folder / PRIVATE_KEY_FILE, retired / f"{old_kid}.key.pem")
        os.replace(old_public, retired / old_public.name)
        os.replace(staging / PRIVATE_KEY_FILE, folder / PRIVATE_KEY_FILE)
        os.replace(new_public, folder / TRUST_SUBDIR / new_public.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    withdrawn = old_kid in withdraw_due(db, moment)
    return IssuerRotation(old_kid, new_kid, withdraw_at, withdrawn, version)


def withdraw_due_in(conn: Connection, now: datetime | None = None) -> list[str]:
    """Stop publishing the trust documents whose withdrawal time has come, in the caller's transaction (HQ's
    `withdraw-keys` job: `sync.hq.background`); their ids (a new bundle version when any)."""
    due = trust_documents.c.withdraw_at <= utc_text(now or datetime.now(UTC))
    ids = list(conn.execute(select(trust_documents.c.id).where(due)).scalars())
    if ids:
        conn.execute(delete(trust_documents).where(due))
        bump(conn, DISTRICT)
    return ids


def withdraw_due(db: HqDatabase, now: datetime | None = None) -> list[str]:
    """`withdraw_due_in`, in a transaction of its own."""
    with db.begin() as conn:
        return withdraw_due_in(conn, now)


def pending(db: HqDatabase) -> list[tuple[str, str]]:
    """(key id, withdrawal time) of each issuer key in its overlap."""
    with db.read() as conn:
        rows = conn.execute(
            select(trust_documents.c.id, trust_documents.c.withdraw_at)
            .where(trust_documents.c.withdraw_at.is_not(None))
            .order_by(trust_documents.c.withdraw_at)
        )
        return [(row.id, row.withdraw_at) for row in rows]
