"""The files a USB stick carries between a gate with no network and HQ (sneakernet sync), both directions.

- Gate to HQ, `gate-<gate>-<made>.pgstick`: the entries HQ has not acknowledged, as the very upload bodies the
  gate would POST over the network (`StickExport.batches`), so HQ judges them with the same code
  (`sync.hq.ingest.read_upload` and `ingest`). The payload is marked with an HMAC-SHA256 keyed by the SHA-256 of
  the gate's token, which the gate holds (it has the token) and HQ holds (it keeps only that hash): a file made
  by another gate, or edited or damaged on the way, does not verify and is refused whole. The entries are
  chained as ever (`sync.core.chain`), so HQ checks their history as it does an upload's.
- HQ to gate, `hq-receipt-<gate>-<export>.json`: HQ's receipts for the export's batches, signed with HQ's bundle
  key, which the gate pinned. The gate moves its upload cursor only when it reads one from a later stick.
- HQ to gate, `hq-bundle-<gate>-v<version>.json`: the gate's signed bundle exactly as HQ serves it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519
from pydantic import BaseModel, ConfigDict, ValidationError

from sync.core.codes.trust import key_id
from sync.core.duty import DutyReceipt
from sync.core.protocol import ENTRIES_PROTOCOL, GateId, UploadReceipt

EXPORT_FORMAT = "pocket-gate-stick-export/1"
RECEIPT_FORMAT = "pocket-gate-stick-receipt/1"
MAX_STICK_BYTES = 512 * 1024 * 1024
"""A stick file HQ or a gate reads at most (a month of the busiest gate's entries is far smaller)."""
EXPORT_SUFFIX = ".pgstick"


class StickError(Exception):
    """A stick file was refused; the message says why. Nothing of it was applied."""


class _Stick(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class StickExport(_Stick):
    """What the gate carries to HQ: each batch is one upload body, as the gate would POST it."""

    protocol: int = ENTRIES_PROTOCOL
    gate: GateId
    export_id: str
    made_at: datetime
    bundle_version: int
    """The bundle in force at the gate when it wrote the file (HQ shows it; the stick brings the newer one)."""
    batches: list[str]
    duty: list[str] = []
    """The gate's duty events HQ has not acknowledged, as `sync.core.duty.DutyBatch` bodies."""


class _ExportEnvelope(_Stick):
    format: str
    gate: GateId
    payload: str
    mac: str


class StickReceipt(_Stick):
    """HQ's answer to one export: a receipt per batch, as the network upload would have got."""

    gate: GateId
    export_id: str
    receipts: list[UploadReceipt]
    duty: list[DutyReceipt] = []


class _ReceiptEnvelope(_Stick):
    format: str
    key_id: str
    payload: str
    signature: str


def mac_key(token_hash: str) -> bytes:
    """The HMAC key of a gate's stick files: the SHA-256 (hex) of its token, as HQ keeps it."""
    return token_hash.encode("ascii")


def token_mac_key(token: str) -> bytes:
    return mac_key(hashlib.sha256(token.encode()).hexdigest())


def write_export(export: StickExport, key: bytes) -> bytes:
    payload = export.model_dump_json().encode()
    mac = hmac.new(key, payload, hashlib.sha256).hexdigest()
    envelope = _ExportEnvelope(format=EXPORT_FORMAT, gate=export.gate, payload=base64.b64encode(payload).decode(), mac=mac)
    return envelope.model_dump_json(indent=1).encode()


def export_gate(data: bytes) -> tuple[str, bytes, str]:
    """(gate, payload, mac) of an export file, before its mark is checked (HQ needs the gate to find the key)."""
    if len(data) > MAX_STICK_BYTES:
        raise StickError(f"the file is {len(data)} bytes, more than the {MAX_STICK_BYTES} HQ reads")
    try:
        envelope = _ExportEnvelope.model_validate_json(data)
        payload = base64.b64decode(envelope.payload, validate=True)
    except (ValidationError, binascii.Error, ValueError) as exc:
        raise StickError("the file is not a gate's stick export (damaged, or another kind of file)") from exc
    if envelope.format != EXPORT_FORMAT:
        raise StickError(f"the file is in format {envelope.format!r}; HQ reads {EXPORT_FORMAT!r}")
    return envelope.gate, payload, envelope.mac


def read_export(payload: bytes, mac: str, key: bytes, gate: str) -> StickExport:
    """The export once its mark verifies with the gate's key. Raises StickError."""
    if not hmac.compare_digest(hmac.new(key, payload, hashlib.sha256).hexdigest(), mac):
        raise StickError(
            f"the file's mark does not verify with gate {gate}'s token: it was edited or damaged after the gate wrote "
            "it, made by another gate, or made with a token HQ has replaced since"
        )
    try:
        export = StickExport.model_validate_json(payload)
    except ValidationError as exc:
        raise StickError(f"the export's content is malformed: {exc.errors()[0]['msg']}") from exc
    if export.gate != gate:
        raise StickError(f"the export names gate {export.gate} inside and gate {gate} outside")
    return export


def sign_receipt(receipt: StickReceipt, key: ed25519.Ed25519PrivateKey) -> bytes:
    payload = receipt.model_dump_json().encode()
    envelope = _ReceiptEnvelope(
        format=RECEIPT_FORMAT,
        key_id=key_id(key.public_key()).hex(),
        payload=base64.b64encode(payload).decode(),
        signature=base64.b64encode(key.sign(payload)).decode(),
    )
    return envelope.model_dump_json(indent=1).encode()


def verify_receipt(data: bytes, key: ed25519.Ed25519PublicKey) -> StickReceipt:
    """HQ's receipt, once its signature verifies with the pinned key. Raises StickError."""
    try:
        envelope = _ReceiptEnvelope.model_validate_json(data)
        payload = base64.b64decode(envelope.payload, validate=True)
        signature = base64.b64decode(envelope.signature, validate=True)
    except (ValidationError, binascii.Error, ValueError) as exc:
        raise StickError("the receipt is not one HQ wrote (damaged, or another kind of file)") from exc
    try:
        key.verify(signature, payload)
    except InvalidSignature as exc:
        raise StickError("the receipt's signature does not verify with HQ's pinned key: edited, damaged or forged") from exc
    try:
        return StickReceipt.model_validate_json(payload)
    except ValidationError as exc:
        raise StickError(f"the receipt's content is malformed: {exc.errors()[0]['msg']}") from exc


def receipt_name(gate: str, export_id: str) -> str:
    return f"hq-receipt-{gate}-{export_id}.json"


def bundle_name(gate: str, version: int) -> str:
    return f"hq-bundle-{gate}-v{version}.json"


def bundles_on(folder: Path, gate: str) -> list[tuple[int, Path]]:
    """The bundles for `gate` on the stick, newest (highest version) first."""
    pattern = re.compile(rf"^hq-bundle-{re.escape(gate)}-v(\d{{1,18}})\.json$")
    found = [(int(m.group(1)), path) for path in folder.iterdir() if (m := pattern.match(path.name))]
    return sorted(found, reverse=True)


def receipts_on(folder: Path, gate: str) -> list[Path]:
    return sorted(folder.glob(f"hq-receipt-{gate}-*.json"))


def write_stick_file(path: Path, data: bytes) -> None:
    """Write beside `path`, flush to the stick, then put in place at once: a stick pulled out mid-write leaves
    the old file or the new one, never half of one."""
    temp = path.with_name(f".{path.name}.tmp")
    with temp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temp, path)
