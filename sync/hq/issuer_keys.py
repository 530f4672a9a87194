"""Rotating the issuer key that signs health codes: the new key and the old one are trusted side by side for a
stated overlap (codes already issued keep passing while people fetch new ones), then the old one is withdrawn
from every bundle.

`rotate` retires the keys folder's private key (moved to `retired/<key id>.key.pem`, so nothing signs with it
again), makes a new one in its place, publishes the new public key and marks the old one's trust document with
when it is withdrawn. `withdraw_due` removes what is due from what HQ publishes, with a new bundle version, so
online gates stop trusting the old key within seconds; a running server calls it every minute.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select, update

from sync.core.clock import utc_text
from sync.core.codes.keys import PRIVATE_KEY_FILE, create_issuer_keys, load_issuer_key
from sync.core.protocol import ISSUER_PUBLIC_KEY
from sync.hq import lists
from sync.hq.db import HqDatabase
from sync.hq.revisions import DISTRICT, bump
from sync.hq.tables import trust_documents

RETIRED_SUBDIR = "retired"


@dataclass(frozen=True)
class IssuerRotation:
    old_kid: str
    new_kid: str
    withdraw_at: str
    version: int


def rotate(db: HqDatabase, folder: Path, overlap: timedelta, now: datetime | None = None) -> IssuerRotation:
    """Replace the folder's issuer key with a new one of the same algorithm; trust both until `now + overlap`."""
    moment = now or datetime.now(UTC)
    old = load_issuer_key(folder)
    retired = folder / RETIRED_SUBDIR / f"{old.kid.hex()}.key.pem"
    retired.parent.mkdir(mode=0o700, exist_ok=True)
    os.replace(folder / PRIVATE_KEY_FILE, retired)
    new_kid = create_issuer_keys(folder, "Ed25519" if old.alg == -8 else "ES256")
    published = lists.trust_documents_from([folder])  # the trust/ folder: the old public key and the new one
    withdraw_at = utc_text(moment + overlap)
    lists.add_trust(db, [doc for doc in published if doc.id in (old.kid.hex(), new_kid.hex())])
    with db.begin() as conn:
        conn.execute(
            update(trust_documents)
            .where(trust_documents.c.type == ISSUER_PUBLIC_KEY, trust_documents.c.id == old.kid.hex())
            .values(withdraw_at=withdraw_at)
        )
        version = bump(conn, DISTRICT)
    return IssuerRotation(old.kid.hex(), new_kid.hex(), withdraw_at, version)


def withdraw_due(db: HqDatabase, now: datetime | None = None) -> list[str]:
    """Stop publishing the trust documents whose withdrawal time has come; their ids (a new bundle version when
    any)."""
    moment = utc_text(now or datetime.now(UTC))
    due = trust_documents.c.withdraw_at <= moment
    with db.begin() as conn:
        ids = list(conn.execute(select(trust_documents.c.id).where(due)).scalars())
        if ids:
            conn.execute(delete(trust_documents).where(due))
            bump(conn, DISTRICT)
    return ids


def pending(db: HqDatabase) -> list[tuple[str, str]]:
    """(key id, withdrawal time) of each issuer key in its overlap."""
    with db.read() as conn:
        rows = conn.execute(
            select(trust_documents.c.id, trust_documents.c.withdraw_at)
            .where(trust_documents.c.withdraw_at.is_not(None))
            .order_by(trust_documents.c.withdraw_at)
        )
        return [(row.id, row.withdraw_at) for row in rows]
