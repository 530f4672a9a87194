"""Taking in a gate's stick export at HQ (`pocket-hq sync-import FILE`), for a gate with no network for days.

The same checks as a network upload, by the same code: the file is the gate's own when its mark verifies with
the key HQ keeps for that gate's token (an enrolled gate, not revoked: the identity a bearer token gives), and
each batch in it is read by `ingest.read_upload` and stored by `ingest.ingest` (chain, duplicates, refusals,
alerts, idempotent by batch id). Every batch is read before any is stored, so a file HQ cannot take changes
nothing. Then HQ writes back, beside the file, its signed receipt (the gate moves its cursor on it) and the gate's
current bundle. Importing the same file again stores nothing twice and writes the same receipt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519
from pydantic import ValidationError
from sqlalchemy import select

from sync.core.stick import (
    StickError,
    StickReceipt,
    bundle_name,
    export_gate,
    mac_key,
    read_export,
    receipt_name,
    sign_receipt,
    write_stick_file,
)
from sync.core.duty import DutyBatch
from sync.hq.bundles import BundlePublisher
from sync.hq.duty import ingest_duty
from sync.hq.db import HqDatabase
from sync.hq.district import DistrictSecrets
from sync.hq.ingest import BatchConflict, UploadRefused, ingest, read_upload
from sync.hq.tables import gates


@dataclass(frozen=True)
class StickImport:
    """What one import did, for the operator. A batch HQ took in before (the same stick again) counts as held."""

    gate: str
    batches: int
    received: int
    stored: int
    duplicates: int
    refused: int
    alerts: int
    receipt: Path
    bundle: Path
    bundle_version: int


def import_stick(
    db: HqDatabase,
    key: ed25519.Ed25519PrivateKey,
    path: Path,
    *,
    secrets: DistrictSecrets | None = None,
    out: Path | None = None,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> StickImport:
    """Ingest the export at `path` and write the receipt and the gate's bundle into `out` (default: beside the
    file), telling `progress` (entries taken in, entries on the stick) after each batch. Raises StickError, having
    stored nothing, for a file HQ does not take."""
    moment = now or datetime.now(UTC)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StickError(f"cannot read {path}: {exc.strerror}") from exc
    gate_id, payload, mac = export_gate(data)
    with db.read() as conn:
        row = conn.execute(select(gates.c.token_hash, gates.c.revoked_at).where(gates.c.gate_id == gate_id)).first()
    if row is None:
        raise StickError(f"gate {gate_id} is not enrolled at this HQ")
    if row.revoked_at is not None:
        raise StickError(f"gate {gate_id} was revoked: HQ takes nothing from it")
    export = read_export(payload, mac, mac_key(row.token_hash), gate_id)
    try:
        batches = [read_upload(body.encode(), gate_id) for body in export.batches]
        duty = [DutyBatch.model_validate_json(body) for body in export.duty]
    except UploadRefused as exc:
        raise StickError(f"the export carries a batch HQ does not take: {exc}") from exc
    except ValidationError as exc:
        raise StickError(f"the export carries duty events HQ does not take: {exc.errors()[0]['msg']}") from exc
    if any({b.gate, *(e.gate for e in b.events)} != {gate_id} for b in duty):
        raise StickError(f"gate {gate_id} can only report its own duty")
    receipts = []
    total = sum(len(batch.entries) for batch in batches)
    for batch in batches:
        try:
            receipts.append(ingest(db, gate_id, batch, moment, secrets))
        except BatchConflict as exc:
            raise StickError(f"{exc}; {len(receipts)} batches before it were taken in") from exc
        if progress is not None:
            progress(sum(r.received for r in receipts), total)
    duty_receipts = [ingest_duty(db, gate_id, batch, moment) for batch in duty]
    folder = out or path.parent
    receipt_file = folder / receipt_name(gate_id, export.export_id)
    write_stick_file(receipt_file, sign_receipt(StickReceipt(gate=gate_id, export_id=export.export_id, receipts=receipts, duty=duty_receipts), key))
    version, bundle = BundlePublisher(db, key, secrets).signed(gate_id, moment)
    bundle_file = folder / bundle_name(gate_id, version)
    write_stick_file(bundle_file, bundle)
    return StickImport(
        gate=gate_id,
        batches=len(receipts),
        received=sum(r.received for r in receipts),
        stored=sum(r.stored for r in receipts if not r.replayed),
        duplicates=sum(r.received - r.refused if r.replayed else r.duplicates for r in receipts),
        refused=sum(r.refused for r in receipts),
        alerts=sum(len(r.alerts) for r in receipts if not r.replayed),
        receipt=receipt_file,
        bundle=bundle_file,
        bundle_version=version,
    )
