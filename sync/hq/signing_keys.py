"""Rotating HQ's bundle-signing key without re-enrolling a single gate.

`rotate` makes a new key, has the old one sign it (an endorsement, `sync.core.bundle.endorse`), records the
endorsement in HQ's database, and puts the new key where the old one was (the old one is kept beside it as
`<name>.retired-<key id>`). From the server's next start, bundles are signed by the new key and carry every
endorsement, oldest first, so a gate that pinned any earlier key follows them and pins the new one; the bundle
version is bumped so every gate fetches one soon.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, delete, insert, select

from sync.core.bundle import create_signing_key, endorse, fingerprint, load_signing_key
from sync.core.codes.trust import key_id
from sync.core.protocol import KeyEndorsement
from sync.hq.db import HqDatabase
from sync.hq.revisions import DISTRICT, bump
from sync.hq.tables import settings

ENDORSEMENTS_KEY = "signing_endorsements"


def endorsements(conn: Connection) -> tuple[KeyEndorsement, ...]:
    """Every endorsement recorded, oldest first."""
    text = conn.execute(select(settings.c.value).where(settings.c.key == ENDORSEMENTS_KEY)).scalar()
    return tuple(KeyEndorsement.model_validate(item) for item in json.loads(text)) if text else ()


@dataclass(frozen=True)
class Rotation:
    old_fingerprint: str
    new_fingerprint: str
    retired: Path
    version: int


def rotate(db: HqDatabase, path: Path) -> Rotation:
    """Replace the signing key at `path` with a new one the old one endorses (see the module docstring)."""
    old = load_signing_key(path)
    staged = path.with_name(f".{path.name}.next")
    staged.unlink(missing_ok=True)
    new = create_signing_key(staged)
    with db.begin() as conn:
        chain = endorsements(conn) + (endorse(old, new.public_key()),)
        conn.execute(delete(settings).where(settings.c.key == ENDORSEMENTS_KEY))
        conn.execute(
            insert(settings).values(key=ENDORSEMENTS_KEY, value=json.dumps([item.model_dump() for item in chain]))
        )
        version = bump(conn, DISTRICT)
    retired = path.with_name(f"{path.name}.retired-{key_id(old.public_key()).hex()}")
    os.link(path, retired)
    os.replace(staged, path)
    return Rotation(fingerprint(old), fingerprint(new), retired, version)
