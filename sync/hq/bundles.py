"""Building and signing each gate's bundle: its roster and passes, the district's red/yellow list, policy and
trust documents, under the gate's current bundle version.

A bundle is read optimistically: version, content, version again, and built again if a change landed in
between (versions only grow and every change bumps one), so the content always matches its version on both
databases without holding the writer lock. Signed bundles are kept in a small cache by (gate, version), which
is what makes a thousand gates asking at once cheap.

With the district key (`sync.hq.district`), a bundle carries the gate's own key of its current generation, HQ's
public sealing key, and on every list row the ID's hash under the gate's key, computed here from the number HQ
keeps encrypted beside the row. Without it, rows go with the district subject alone and no gate key: gates then
cannot take typed ID numbers (and `serve` warns).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import Connection, or_, select

from sync.core.clock import utc_text
from sync.core.bundle import sign_bundle
from sync.core.sealing import seal_public_pem
from sync.hq.db import HqDatabase
from sync.hq.district import DistrictSecrets
from sync.hq.district_zone import published_zone
from sync.hq.tables import colour_list, gates, passes, roster, settings, trust_documents
from sync.hq import incidents, traced_list
from sync.hq.lists import POLICY_KEY
from sync.hq.revisions import bundle_version
from sync.hq.signing_keys import endorsements
from sync.core.protocol import BundleContent, ColourRow, GateKey, PassRow, RosterRow, TrustDocument

CACHE_BYTES = 256 * 1024 * 1024
_ATTEMPTS = 5


class BundlePublisher:
    def __init__(
        self,
        db: HqDatabase,
        key: ed25519.Ed25519PrivateKey,
        secrets: DistrictSecrets | None = None,
        cache_bytes: int = CACHE_BYTES,
    ) -> None:
        self.db = db
        self.key = key
        self.secrets = secrets
        self._cache: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._cache_bytes = 0
        self._cache_limit = cache_bytes
        self._lock = threading.Lock()

    def version(self, gate_id: str) -> int:
        with self.db.read() as conn:
            return bundle_version(conn, gate_id)

    def signed(self, gate_id: str, now: datetime | None = None) -> tuple[int, bytes]:
        """The gate's current bundle version and its signed bytes."""
        with self.db.read() as conn:
            for _ in range(_ATTEMPTS):
                version = bundle_version(conn, gate_id)
                cached = self._cached(gate_id, version)
                if cached is not None:
                    return version, cached
                content = _content(conn, gate_id, version, now or datetime.now(UTC), self.secrets)
                if bundle_version(conn, gate_id) == version:
                    data = sign_bundle(content, self.key, endorsements(conn))
                    self._remember(gate_id, version, data)
                    return version, data
        raise RuntimeError(f"gate {gate_id}'s lists kept changing while its bundle was built; try again")

    def _cached(self, gate_id: str, version: int) -> bytes | None:
        with self._lock:
            data = self._cache.get((gate_id, version))
            if data is not None:
                self._cache.move_to_end((gate_id, version))
            return data

    def _remember(self, gate_id: str, version: int, data: bytes) -> None:
        with self._lock:
            if (gate_id, version) in self._cache or len(data) > self._cache_limit:
                return
            self._cache[(gate_id, version)] = data
            self._cache_bytes += len(data)
            while self._cache_bytes > self._cache_limit:
                _, dropped = self._cache.popitem(last=False)
                self._cache_bytes -= len(dropped)


def _colour_rows(
    uploaded: Iterable[Any], traced: dict[str, tuple[str, str, str]], id_hash: Callable[[str | None], str | None]
) -> list[ColourRow]:
    """The uploaded list with the traced entries in force, one row a person: a traced entry (with its expiry)
    where it is stronger than the uploaded row or the person is not on the uploaded list."""
    rows = []
    for r in uploaded:
        colour, reason, until = traced.pop(r.subject, (None, "", None))
        if colour == "red" and r.colour == "yellow":
            rows.append(ColourRow(
                subject=r.subject, colour=colour, note=reason, until=until, lapses_to=r.colour, id_hash=id_hash(r.kept_id)
            ))
        else:
            rows.append(ColourRow(subject=r.subject, colour=r.colour, note=r.note, id_hash=id_hash(r.kept_id)))
    rows += [
        ColourRow(subject=subject, colour=colour, note=reason, until=until) for subject, (colour, reason, until) in traced.items()
    ]
    return sorted(rows, key=lambda row: row.subject)


def _content(
    conn: Connection, gate_id: str, version: int, now: datetime, secrets: DistrictSecrets | None
) -> BundleContent:
    generation = conn.execute(select(gates.c.key_generation).where(gates.c.gate_id == gate_id)).scalar() or 1
    id_hash = secrets.hasher(gate_id, generation) if secrets is not None else (lambda kept: None)
    roster_rows = conn.execute(
        select(roster.c.subject, roster.c.name, roster.c.unit, roster.c.phone, roster.c.kept_id)
        .where(roster.c.gate == gate_id)
        .order_by(roster.c.subject)
    )
    pass_rows = conn.execute(
        select(
            passes.c.id,
            passes.c.subject,
            passes.c.kind,
            passes.c.valid_from,
            passes.c.valid_until,
            passes.c.note,
            passes.c.kept_id,
        )
        .where(or_(passes.c.gate == gate_id, passes.c.gate.is_(None)), passes.c.valid_until > utc_text(now))
        .order_by(passes.c.id)
    )
    colour_rows = conn.execute(
        select(colour_list.c.subject, colour_list.c.colour, colour_list.c.note, colour_list.c.kept_id).order_by(
            colour_list.c.subject
        )
    )
    trust_rows = conn.execute(
        select(
            trust_documents.c.type,
            trust_documents.c.id,
            trust_documents.c.label,
            trust_documents.c.content,
            trust_documents.c.encoding,
        ).order_by(trust_documents.c.type, trust_documents.c.id)
    )
    policy = conn.execute(select(settings.c.value).where(settings.c.key == POLICY_KEY)).scalar()
    return BundleContent(
        gate=gate_id,
        version=max(version, 1),
        issued_at=now,
        roster=[RosterRow(subject=r.subject, name=r.name, unit=r.unit, phone=r.phone, id_hash=id_hash(r.kept_id)) for r in roster_rows],
        passes=[
            PassRow(
                id=r.id,
                subject=r.subject,
                kind=r.kind,
                valid_from=r.valid_from,
                valid_until=r.valid_until,
                note=r.note,
                id_hash=id_hash(r.kept_id),
            )
            for r in pass_rows
        ],
        colour_list=_colour_rows(colour_rows, traced_list.in_force(conn, now), id_hash),
        policy=None if policy is None else json.loads(policy),
        trust=[
            TrustDocument(type=r.type, id=r.id, label=r.label, content=r.content, encoding=r.encoding) for r in trust_rows
        ],
        timezone=published_zone(conn),
        gate_key=None if secrets is None else GateKey(generation=generation, key=secrets.gate_key(gate_id, generation).hex()),
        seal_key=None if secrets is None else seal_public_pem(secrets.seal_key),
        procedure=incidents.procedure_in(conn),
    )

