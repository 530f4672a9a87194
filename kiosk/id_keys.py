"""The keys a gate turns typed ID numbers into something it may log: its own key from HQ, and HQ's sealing key.

The district key stays at HQ (see `sync.core.identity`). HQ's bundle brings the gate its own key and HQ's public
sealing key, kept in the gate database's `meta` with the lists they belong to (`keep`, inside the bundle's
transaction), and every list row carries the ID's hash under the gate's key. A typed number is then
(`identify`):
- found on a list by that hash: logged under the row's district subject, like a code;
- on none: logged with no subject and the number sealed to HQ (`sync.core.sealing`), which HQ opens on ingest,
  so tracing finds the person while nothing on this laptop can read it back. Its gate-keyed hash is not
  logged: the gate's key is on the laptop, so that hash is one a thief could test guesses against (tens of
  millions of candidates, minutes of work), and nothing at the gate or at HQ needs it.

A gate enrolled before this kept the district key in a file (`district_key_file`). It goes on using it for rows
HQ sent without a gate-keyed hash (lists loaded at HQ before gate keys), and deletes it (`retire_district_key`)
once a bundle brings its own key and every row carries its hash; the settings screen then says so. A gate with
no HQ at all (lists imported by hand) still needs the district key to hash the numbers it imports.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import x25519

from kiosk.keeper_locale import local_time
from kiosk.store import LIST_NAMES, GateStore
from sync.core.clock import utc_text
from sync.core.i18n import _
from sync.core.identity import gate_hash, subject_hash
from sync.core.protocol import GateKey
from sync.core.sealing import SealError, load_seal_public_key, seal_id

GATE_KEY = "gate_key"
GATE_KEY_GENERATION = "gate_key_generation"
SEAL_KEY = "hq_seal_key"
DISTRICT_KEY_DELETED = "district_key_deleted"
"""Meta: when and where this gate deleted the district key it had before, 'TIME PATH'."""


class NoIdKey(Exception):
    """This gate has no key to take a typed ID number with; the message says what to do."""


@dataclass(frozen=True)
class IdKeys:
    """What the gate database holds for typed ID numbers."""

    gate_key: bytes | None
    generation: int | None
    seal_key: x25519.X25519PublicKey | None
    district_key_deleted: str | None
    """'TIME PATH' of the district key this gate deleted, or None."""


def keep(store: GateStore, gate_key: GateKey | None, seal_pem: str | None) -> None:
    """Store the bundle's gate key and HQ's sealing key (or forget them: an HQ without the district key sends
    none), inside the caller's transaction. A sealing key that is not one refuses the bundle (SealError)."""
    if seal_pem is not None:
        load_seal_public_key(seal_pem)
    with store.transaction() as db:
        db.execute("DELETE FROM meta WHERE key IN (?, ?, ?)", [GATE_KEY, GATE_KEY_GENERATION, SEAL_KEY])
        values = {SEAL_KEY: seal_pem} if seal_pem is not None else {}
        if gate_key is not None:
            values |= {GATE_KEY: gate_key.key, GATE_KEY_GENERATION: str(gate_key.generation)}
        if values:
            store.set_meta(values)


def read(store: GateStore) -> IdKeys:
    key, generation, seal, deleted = (
        store.get_meta(name) for name in (GATE_KEY, GATE_KEY_GENERATION, SEAL_KEY, DISTRICT_KEY_DELETED)
    )
    try:
        seal_key = load_seal_public_key(seal) if seal else None
    except SealError:
        seal_key = None
    return IdKeys(
        bytes.fromhex(key) if key else None, int(generation) if generation else None, seal_key, deleted
    )


def rows_without_hash(store: GateStore) -> int:
    """List rows HQ sent without their gate-keyed hash (loaded at HQ before gate keys)."""
    with store.reading() as db:
        return sum(db.execute(f"SELECT count(*) FROM [{t}] WHERE id_hash IS NULL").fetchone()[0] for t in LIST_NAMES)


def identify(
    store: GateStore | None, district_key: bytes | None, id_number: str, doc_type: str
) -> tuple[str | None, dict[str, str]]:
    """The subject a typed number is logged under, and what its entry's details carry (see the module
    docstring). Raises NoIdKey when the gate has no key for it."""
    keys = read(store) if store is not None else IdKeys(None, None, None, None)
    hashed = None
    if keys.gate_key is not None and store is not None:
        hashed = gate_hash(keys.gate_key, id_number, doc_type)
        found = store.subject_by_id_hash(hashed)
        if found is not None:
            return found, {}
    if district_key is not None and keys.district_key_deleted is None:
        return subject_hash(district_key, id_number, doc_type), {}
    if hashed is None or keys.seal_key is None:
        raise NoIdKey(
            _("this gate has no key for ID numbers yet: enrol it with HQ and sync (HQ must run with its district key)")
        )
    return None, {"sealed_id": seal_id(keys.seal_key, id_number, doc_type)}


def phone_hash(store: GateStore | None, district_key: bytes | None, phone: str) -> str | None:
    """A visitor's phone as a keyed hash: under the gate's own key when it has one (the district key before)."""
    keys = read(store) if store is not None else IdKeys(None, None, None, None)
    key = keys.gate_key or (district_key if keys.district_key_deleted is None else None)
    return subject_hash(key, phone, "phone") if key is not None else None


def retire_district_key(store: GateStore, path: Path | None, now: datetime) -> Path | None:
    """Delete the district key file once this gate no longer needs it: it has its own key from HQ and every list
    row carries its gate-keyed hash. Its bytes are overwritten before the file is removed. Returns the path
    deleted, or None."""
    if path is None or not path.exists() or read(store).gate_key is None or rows_without_hash(store):
        return None
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.write(b"\0" * size)
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()
    store.set_meta({DISTRICT_KEY_DELETED: f"{utc_text(now)} {path}"})
    return path


def describe(store: GateStore | None, district_key_file: Path | None) -> tuple[str, bool]:
    """What the settings screen says about the keys typed ID numbers are taken with, and whether it needs a
    supervisor's attention."""
    keys = read(store) if store is not None else IdKeys(None, None, None, None)
    own = (
        _("this gate's own key from HQ (generation {generation})").format(generation=keys.generation)
        if keys.gate_key is not None
        else None
    )
    if keys.district_key_deleted is not None:
        when, _space, where = keys.district_key_deleted.partition(" ")
        return (
            _("deleted from this gate on {when} ({where}); typed ID numbers use {key}").format(
                when=local_time(when, "%Y-%m-%d %H:%M"), where=where, key=own or _("no key yet")
            ),
            own is None,
        )
    held = district_key_file is not None and district_key_file.exists()
    if held and own is not None:
        missing = rows_without_hash(store) if store is not None else 0
        return (
            _(
                "{path}: kept until HQ loads its lists again ({missing} rows came without this gate's hash); "
                "deleted at the first sync after that"
            ).format(path=district_key_file, missing=missing),
            True,
        )
    if held:
        return _("{path} (a gate without HQ's key of its own hashes typed ID numbers with it)").format(
            path=district_key_file
        ), False
    if own is not None:
        return _("none on this gate: typed ID numbers use {key}").format(key=own), False
    return _("none: manual entry cannot take ID numbers until the gate is enrolled with HQ and synced"), True
