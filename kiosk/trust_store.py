"""Trust documents kept in the gate database, so a gate with no HQ still verifies codes after a restart.

A trust document is the bytes of one trust file (PEM or DER X.509 certificates, PEM public keys, a JWKS, a
directory of SMART Health Card issuers, a revocation list), stored whole under a name, with where it came from
(`origin`: "file" for `pocket-kiosk trust import`, "hq" for the sync bundle) and when it was last confirmed
current. Bytes are parsed before they are stored (a bad file changes nothing) and again when the gate loads
its trust list, so what the gate believes is always derived from the documents themselves.

The tables are this module's own migration set ("pocket-gate-trust"), beside the store's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlite_utils import Database, Migrations

from sync.core.codes.trust import TrustError, TrustList, TrustSummary
from kiosk.store import GateStore
from sync.core.clock import utc_text

migrations = Migrations("pocket-gate-trust")
TABLE = "trust_documents"
MAX_NAME_CHARS = 200


@migrations()
def m001_trust_documents(db: Database) -> None:
    db[TABLE].create(
        {
            "name": str,
            "origin": str,
            "data": bytes,
            "sha256": str,
            "summary": str,
            "imported_at": str,
            "confirmed_at": str,
            "shc_issuer": str,
        },
        pk="name",
        not_null={"origin", "data", "sha256", "summary", "imported_at", "confirmed_at"},
    )


@dataclass(frozen=True)
class StoredDocument:
    """One row of the trust documents table, without its bytes."""

    name: str
    origin: str
    sha256: str
    summary: str
    imported_at: datetime
    confirmed_at: datetime


def _parse(data: bytes, name: str, shc_issuer: str | None) -> TrustSummary:
    """Read the document as the gate will; a stored JWKS must also say whose cards its keys sign."""
    if not name or len(name) > MAX_NAME_CHARS:
        raise TrustError(f"a trust document needs a name of 1 to {MAX_NAME_CHARS} characters")
    trust = TrustList()
    summary = trust.add_document(data, name, issuer=shc_issuer)
    if problems := trust.storage_problems():
        raise TrustError(f"{name}: {problems[0]}; give the issuer URL its cards carry (`--issuer https://...`)")
    return summary


def _row(
    name: str, data: bytes, origin: str, summary: TrustSummary, shc_issuer: str | None, moment: datetime
) -> dict[str, object]:
    return {
        "name": name,
        "origin": origin,
        "data": data,
        "sha256": hashlib.sha256(data).hexdigest(),
        "summary": summary.contents(),
        "imported_at": utc_text(moment),
        "confirmed_at": utc_text(moment),
        "shc_issuer": shc_issuer,
    }


def import_document(
    store: GateStore,
    data: bytes,
    *,
    name: str,
    origin: str = "file",
    shc_issuer: str | None = None,
    now: datetime | None = None,
) -> TrustSummary:
    """Parse one trust file's bytes and store them under `name` (replacing a document of that name).

    `shc_issuer` binds the keys of a JWKS that does not name its issuer; a JWKS with no issuer either way is
    refused, since the gate could not tell whose cards its keys may sign. Raises TrustError and stores
    nothing when the bytes are not a usable trust file."""
    summary = _parse(data, name, shc_issuer)
    moment = now or datetime.now(UTC)
    with store.transaction() as db:
        migrations.apply(db)
        db[TABLE].upsert(_row(name, data, origin, summary, shc_issuer, moment), pk="name")
    return summary


def replace_documents(
    store: GateStore, documents: Mapping[str, bytes], *, origin: str, now: datetime | None = None
) -> list[TrustSummary]:
    """Make `documents` (name -> bytes) the whole set from `origin` in one transaction: documents of that
    origin not named are removed, the others replaced, and all are confirmed current as of `now`.

    This is what HQ's bundle calls: every document is parsed first, so one bad file leaves the gate's trust
    exactly as it was. Documents from other origins (a keeper's `trust import`) are left alone."""
    summaries = [_parse(data, name, None) for name, data in documents.items()]
    moment = now or datetime.now(UTC)
    with store.transaction() as db:
        migrations.apply(db)
        db.execute(f"DELETE FROM [{TABLE}] WHERE origin = ?", [origin])
        clashing = [row["name"] for row in db[TABLE].rows_where(select="name") if row["name"] in documents]
        if clashing:
            raise TrustError(f"{', '.join(clashing)}: already imported from another origin; remove it first")
        rows = [
            _row(name, data, origin, summary, None, moment)
            for (name, data), summary in zip(documents.items(), summaries, strict=True)
        ]
        if rows:
            db[TABLE].insert_all(rows)
    return summaries


def confirm_documents(store: GateStore, *, origin: str, now: datetime | None = None) -> int:
    """Record that `origin` confirmed its documents are still current (an HQ sync with no trust changes), so
    the trust list does not turn stale. Returns how many documents were confirmed."""
    with store.transaction() as db:
        migrations.apply(db)
        cursor = db.execute(
            f"UPDATE [{TABLE}] SET confirmed_at = ? WHERE origin = ?", [utc_text(now or datetime.now(UTC)), origin]
        )
        return cursor.rowcount


def remove_document(store: GateStore, name: str) -> bool:
    """Forget one stored document; False when there was none of that name."""
    with store.transaction() as db:
        migrations.apply(db)
        return db.execute(f"DELETE FROM [{TABLE}] WHERE name = ?", [name]).rowcount > 0


def list_documents(store: GateStore) -> list[StoredDocument]:
    """The stored documents, without their bytes. Reading never changes the file (no migration runs)."""
    with store.reading() as db:
        if not db[TABLE].exists():
            return []
        rows = list(
            db[TABLE].rows_where(order_by="name", select="name, origin, sha256, summary, imported_at, confirmed_at")
        )
    return [
        StoredDocument(
            name=row["name"],
            origin=row["origin"],
            sha256=row["sha256"],
            summary=row["summary"],
            imported_at=datetime.fromisoformat(row["imported_at"]),
            confirmed_at=datetime.fromisoformat(row["confirmed_at"]),
        )
        for row in rows
    ]


def load_documents(store: GateStore, trust: TrustList) -> int:
    """Add every stored document to `trust` and set `trust.updated_at` to the latest confirmation (the
    freshness the policy judges). Returns how many documents were loaded. Reading never changes the file, so
    `pocket-kiosk check` leaves a gate database exactly as it was."""
    with store.reading() as db:
        rows = list(db[TABLE].rows_where(order_by="name")) if db[TABLE].exists() else []
    for row in rows:
        trust.add_document(row["data"], row["name"], issuer=row["shc_issuer"])
    if rows:
        trust.updated_at = max(datetime.fromisoformat(row["confirmed_at"]) for row in rows)
    return len(rows)


def last_confirmed(store: GateStore) -> datetime | None:
    """When the stored trust list was last refreshed (the latest confirmation of any document): the age the
    policy judges codes by and the kiosk's settings screen shows. None when no document is stored."""
    with store.reading() as db:
        if not db[TABLE].exists():
            return None
        latest = db.execute(f"SELECT max(confirmed_at) FROM [{TABLE}]").fetchone()[0]
    return datetime.fromisoformat(latest) if latest else None


def stored_versions(store: GateStore) -> tuple[tuple[str, str], ...]:
    """Each stored document's name and SHA-256, by name: what changes when a document is added, replaced or
    removed (not when one is only confirmed). Reading never changes the file."""
    with store.reading() as db:
        if not db[TABLE].exists():
            return ()
        return tuple((row[0], row[1]) for row in db.execute(f"SELECT name, sha256 FROM [{TABLE}] ORDER BY name"))
