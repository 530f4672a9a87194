"""Sneakernet sync at the gate (`pocket-kiosk sync --export DIR`): for a gate with no network for days.

One visit of the stick, in this order:
1. The newest bundle for this gate on the stick is checked with HQ's pinned key and applied as a fetched one is
   (an older bundle than the one in force, or another gate's, is refused with the reason; the lists stay).
2. HQ's receipts for this gate on the stick (signed with HQ's key, written by `pocket-hq sync-import`) move the
   upload cursor, with the entries HQ refused kept as a network receipt's are. This is the only way the cursor
   moves here: writing an export never does, so a stick lost on the way loses nothing.
3. Every entry HQ has not acknowledged goes on the stick as one export file of upload batches
   (`sync.core.stick`), made as the network upload makes them, so HQ judges them alike.
A stick carried twice, or two sticks out of order, loses and doubles nothing: HQ stores each entry once (by
batch and entry id), and a receipt behind the cursor is already taken.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519

from sync.core.bundle import BundleError, SigningKeyError, load_public_key, public_pem, verify_signed_bundle
from sync.core.codes.trust import key_id
from sync.core.i18n import _
from sync.core.protocol import AlertKind
from sync.core.stick import (
    EXPORT_SUFFIX,
    MAX_STICK_BYTES,
    StickError,
    StickExport,
    bundles_on,
    receipts_on,
    token_mac_key,
    verify_receipt,
    write_export,
    write_stick_file,
)
from kiosk import id_keys
from kiosk.config import KioskConfig
from kiosk.duty_log import DUTY_BATCH_EVENTS, DutyLog, duty_batch_body
from kiosk.store import GateStore
from kiosk.uplink.client import NotEnrolled, Unsendable, next_batch
from kiosk.uplink.files import write_atomic
from kiosk.uplink.state import BundleChange, SyncState


@dataclass
class StickVisit:
    """What one visit of the stick did, for the keeper."""

    export: Path
    exported: int
    cursor: int
    acknowledged: int = 0
    """Entries HQ's receipts on this stick acknowledged now (taken before, or behind the cursor: not counted)."""
    bundle_change: BundleChange | None = None
    problems: list[str] = field(default_factory=list)
    """A file on the stick refused, with the reason (nothing of it was applied)."""


def sync_by_stick(config: KioskConfig, folder: Path, now: datetime | None = None) -> StickVisit:
    """Take in what HQ left on the stick at `folder`, then write this gate's export there."""
    moment = now or datetime.now(UTC)
    if not (config.hq_token_file and config.hq_key_file):
        raise NotEnrolled(_("this gate is not enrolled with HQ yet: run `pocket-kiosk enroll --hq URL --token TOKEN`"))
    try:
        token = config.hq_token_file.read_text().strip()
        pinned = load_public_key(config.hq_key_file.read_bytes(), label=str(config.hq_key_file))
    except OSError as exc:
        raise NotEnrolled(_("cannot read this gate's HQ token or pinned key: {error}").format(error=exc)) from exc
    with GateStore(config.database, config.gate_id) as store:
        state = SyncState(store)
        problems: list[str] = []
        change, pinned = _take_bundle(config, state, folder, pinned, moment, problems)
        before = state.record().upload_cursor
        _take_receipts(state, folder, pinned, moment, problems)
        cursor = state.record().upload_cursor
        export, exported = _write_export(config, state, folder, token, cursor, moment)
    return StickVisit(export, exported, cursor, cursor - before, change, problems)


def _take_bundle(
    config: KioskConfig, state: SyncState, folder: Path, pinned: ed25519.Ed25519PublicKey, moment: datetime, problems: list[str]
) -> tuple[BundleChange | None, ed25519.Ed25519PublicKey]:
    """Apply the newest bundle for this gate on the stick; the key to check HQ's receipts with (a rotated one the
    bundle's endorsements lead to, pinned from now on)."""
    found = bundles_on(folder, state.store.gate_id)
    if not found:
        return None, pinned
    path = found[0][1]
    try:
        if path.stat().st_size > MAX_STICK_BYTES:
            raise BundleError(_("larger than a gate reads"))
        content, signer = verify_signed_bundle(path.read_bytes(), pinned)
        change = state.apply_bundle(content, moment)
    except (BundleError, SigningKeyError, OSError) as exc:
        problems.append(_("{file} refused: {reason}; the lists in force stay").format(file=path.name, reason=exc))
        return None, pinned
    if key_id(signer) != key_id(pinned):
        assert config.hq_key_file
        write_atomic(config.hq_key_file, public_pem(signer).encode())
    id_keys.retire_district_key(state.store, config.district_key_file, moment)
    return change, signer


def _take_receipts(state: SyncState, folder: Path, pinned: ed25519.Ed25519PublicKey, moment: datetime, problems: list[str]) -> None:
    gate = state.store.gate_id
    for path in receipts_on(folder, gate):
        try:
            if path.stat().st_size > MAX_STICK_BYTES:
                raise StickError(_("larger than a gate reads"))
            receipt = verify_receipt(path.read_bytes(), pinned)
            if receipt.gate != gate or any(r.gate != gate for r in receipt.receipts):
                raise StickError(_("the receipt is for gate {gate}, not this one").format(gate=receipt.gate))
        except (StickError, OSError) as exc:
            problems.append(_("{file} refused: {reason}").format(file=path.name, reason=exc))
            continue
        DutyLog(state.store).acknowledge(max((r.through_seq for r in receipt.duty), default=0))
        through = max((r.through_seq for r in receipt.receipts), default=0)
        if through <= state.record().upload_cursor:
            continue  # taken from an earlier stick, or behind a later receipt
        refused = []
        for answer in receipt.receipts:
            for refusal in answer.refusals:
                held = state.store.entries(after_seq=refusal.seq - 1, limit=1)
                if held and held[0]["seq"] == refusal.seq:
                    refused.append((refusal.seq, str(held[0]["id"]), refusal.kind.value, refusal.reason))
        alerts = sum(len(r.alerts) for r in receipt.receipts if not r.replayed)
        state.advance_cursor(through, alerts=alerts, refused=refused, now=moment)


def _write_export(
    config: KioskConfig, state: SyncState, folder: Path, token: str, cursor: int, moment: datetime
) -> tuple[Path, int]:
    """Every entry after the cursor as upload batches in one marked file; (its path, how many entries)."""
    batches, count, first, last = [], 0, None, None
    while (batch := next_batch(state.store, cursor, config.sync_batch_entries, config.sync_batch_bytes)) is not None:
        if isinstance(batch, Unsendable):  # kept as refused, as the network upload keeps it; the cursor stays
            state.advance_cursor(0, refused=[(batch.seq, batch.id, AlertKind.REFUSED.value, batch.reason)], now=moment)
            cursor = batch.seq
            continue
        batches.append(batch.body().decode())
        count += len(batch.rows)
        first = first if first is not None else batch.rows[0]["seq"]
        last, cursor = batch.last_seq, batch.last_seq
    stamp = moment.strftime("%Y%m%dT%H%M%S%fZ")
    export_id = f"{first}-{last}-{stamp}" if batches else f"none-{stamp}"
    export = StickExport(
        gate=state.store.gate_id,
        export_id=export_id,
        made_at=moment,
        bundle_version=state.record().bundle_version,
        batches=batches,
        duty=_duty_batches(state.store),
    )
    path = folder / f"gate-{state.store.gate_id}-{stamp}{EXPORT_SUFFIX}"
    write_stick_file(path, write_export(export, token_mac_key(token)))
    return path, count


def _duty_batches(store: GateStore) -> list[str]:
    """Every duty event HQ has not acknowledged, as upload bodies (the cursor moves only on HQ's receipt)."""
    log = DutyLog(store)
    events = log.waiting(limit=log.waiting_count())
    runs = [events[i : i + DUTY_BATCH_EVENTS] for i in range(0, len(events), DUTY_BATCH_EVENTS)]
    return [json.dumps(duty_batch_body(store.gate_id, run)) for run in runs]
