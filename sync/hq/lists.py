"""What HQ publishes to gates: rosters, passes, the red/yellow list, the policy and trust documents.

Every change is one transaction that also takes the next bundle version for the scope it touches (see
`revisions`), so a gate sees either all of a change or none of it. ID numbers arrive raw (CSV, the pass
command) and are hashed with the district key at once; HQ's tables hold the subjects, and each number encrypted
under HQ's list key (`kept_id`, see `sync.hq.district`), from which every gate's bundle hashes the row again
under that gate's own key.
"""

from __future__ import annotations

import json
import secrets
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import Connection, Select, delete, func, insert, select

from sync.core.i18n import _
from sync.core.codes.pgc_trust import read_issuer_key
from sync.core.codes.trust import PUBLIC_KEY_SUFFIX, TrustError, TrustList, read_trust_file
from sync.core.csvlist import checked_rows
from sync.core.roster_csv import SAME_PERSON, KeepId
from sync.core.identity import mask_name, resident_id_problem, subject_hash
from sync.core.policy import PolicyError, read_policy
from sync.core.clock import utc_text
from sync.hq.db import HqDatabase
from sync.hq.district import DistrictSecrets
from sync.hq.tables import colour_list, gates, passes, roster, settings, trust_documents
from sync.hq.revisions import DISTRICT, bump, gate_scope, list_scope, stamp
from sync.core.protocol import ISSUER_PUBLIC_KEY, TRUST_FILE, TrustDocument

MAX_CSV_ROWS = 1_000_000
POLICY_KEY = "policy"
COLOUR_LIST_SCOPE = list_scope("colour")


def roster_scope(gate_id: str) -> str:
    return list_scope(f"roster:{gate_id}")


class ListError(Exception):
    """A list, pass, policy or trust change was refused; nothing was changed. The message says why."""


def _require_gate(conn: Connection, gate_id: str) -> None:
    if conn.execute(select(gates.c.gate_id).where(gates.c.gate_id == gate_id)).first() is None:
        raise ListError(_("no gate {gate} is enrolled (see `pocket-hq gates list`)").format(gate=gate_id))


Rows = list[dict[str, str]] | Select[Any]
"""What a list is replaced with: rows, or a query that yields them (staged rows of a checked upload)."""


def write_roster(conn: Connection, gate_id: str, rows: Rows) -> int:
    """Replace one gate's roster inside the caller's transaction; returns the new bundle version."""
    _require_gate(conn, gate_id)
    conn.execute(delete(roster).where(roster.c.gate == gate_id))
    if isinstance(rows, Select):
        conn.execute(insert(roster).from_select(["gate", "subject", "name", "unit", "kept_id", "phone"], rows))
    elif rows:
        conn.execute(insert(roster), [{"gate": gate_id, **row} for row in rows])
    version = bump(conn, gate_scope(gate_id))
    stamp(conn, roster_scope(gate_id), version)
    return version


def replace_roster(db: HqDatabase, gate_id: str, rows: Rows) -> int:
    """Replace one gate's roster (rows from `sync.core.roster_csv.read_roster`); returns the new bundle version."""
    with db.begin() as conn:
        return write_roster(conn, gate_id, rows)


def iter_colour_list(
    path: Path,
    district_key: bytes,
    doc_type: str = "resident-id",
    max_rows: int = MAX_CSV_ROWS,
    line_field: str | None = None,
    keep_id: KeepId | None = None,
) -> Iterator[dict[str, str]]:
    """Rows for the red/yellow list from a CSV with columns id_number,colour[,note][,name], yielded as they are
    read (see `sync.core.csvlist` for what refuses the file; the caller discards what it was given then). One
    person on two lines refuses the file, naming both lines. A name is kept masked only, for officials to check
    whom they act on (gates are not sent it). With `keep_id`, each row also has its `kept_id`."""

    def make_row(record: dict[str, str]) -> dict[str, str] | str:
        id_number = (record.get("id_number") or "").strip()
        colour = (record.get("colour") or "").strip().lower()
        problem = resident_id_problem(id_number) if doc_type == "resident-id" else None
        if not id_number or problem:
            return problem or "no id_number"
        if colour not in {"red", "yellow"}:
            return f"colour must be red or yellow, not {colour[:20]!r}"
        subject = subject_hash(district_key, id_number, doc_type)
        note, name = (record.get("note") or "").strip(), mask_name((record.get("name") or "").strip())
        row = {"subject": subject, "colour": colour, "note": note, "name": name}
        return row | {"kept_id": keep_id(id_number, doc_type)} if keep_id else row

    return checked_rows(
        path, required={"id_number", "colour"}, expected="id_number,colour,note[,name]", max_rows=max_rows,
        error=ListError, make_row=make_row, unique="subject", twice=SAME_PERSON, line_field=line_field,
    )


def rows_without_kept_id(db: HqDatabase) -> int:
    """List rows loaded before gate keys (no kept ID number): gates get them without their gate-keyed hash."""
    with db.read() as conn:
        return sum(
            int(conn.execute(select(func.count()).select_from(table).where(table.c.kept_id.is_(None))).scalar_one())
            for table in (roster, colour_list, passes)
        )


def colour_counts(db: HqDatabase) -> dict[str, int]:
    """How many people the red/yellow list in force holds, by colour."""
    with db.read() as conn:
        rows = conn.execute(select(colour_list.c.colour, func.count()).group_by(colour_list.c.colour))
        return {colour: int(n) for colour, n in rows}


def write_colour_list(conn: Connection, rows: Rows) -> int:
    """Replace the district's red/yellow list inside the caller's transaction; returns the new bundle version."""
    conn.execute(delete(colour_list))
    if isinstance(rows, Select):
        conn.execute(insert(colour_list).from_select(["subject", "colour", "note", "name", "kept_id"], rows))
    elif rows:
        conn.execute(insert(colour_list), [{"name": ""} | row for row in rows])
    version = bump(conn, DISTRICT)
    stamp(conn, COLOUR_LIST_SCOPE, version)
    return version


def replace_colour_list(db: HqDatabase, rows: Rows) -> int:
    """Replace the district's red/yellow list; returns the new bundle version."""
    with db.begin() as conn:
        return write_colour_list(conn, rows)


@dataclass(frozen=True)
class IssuedPass:
    id: str
    subject: str
    kind: str
    gate: str | None
    valid_from: str
    valid_until: str
    note: str
    version: int


def issue_pass(
    db: HqDatabase,
    *,
    id_number: str,
    district_key: bytes,
    kind: str,
    valid_from: datetime,
    valid_until: datetime,
    gate_id: str | None = None,
    note: str = "",
    doc_type: str = "resident-id",
) -> IssuedPass:
    """Let a non-resident through one gate (or every gate) for a while. The ID number is hashed at once."""
    if doc_type == "resident-id" and (problem := resident_id_problem(id_number)):
        raise ListError(problem)
    if valid_until <= valid_from:
        raise ListError(_("a pass must end after it starts"))
    if not 1 <= len(kind) <= 40:
        raise ListError(_("the pass kind (staff, vehicle, visitor...) must be 1-40 characters"))
    pass_id = "pass-" + secrets.token_hex(8)
    row = {
        "id": pass_id,
        "subject": subject_hash(district_key, id_number, doc_type),
        "kept_id": DistrictSecrets(district_key).keep_id(id_number, doc_type),
        "kind": kind,
        "gate": gate_id,
        "valid_from": utc_text(valid_from),
        "valid_until": utc_text(valid_until),
        "note": note,
        "issued_at": utc_text(datetime.now(UTC)),
    }
    with db.begin() as conn:
        if gate_id is not None:
            _require_gate(conn, gate_id)
        conn.execute(insert(passes).values(**row))
        version = bump(conn, gate_scope(gate_id) if gate_id else DISTRICT)
    return IssuedPass(
        id=pass_id, subject=row["subject"], kind=kind, gate=gate_id, valid_from=row["valid_from"],
        valid_until=row["valid_until"], note=note, version=version,
    )


def revoke_pass(db: HqDatabase, pass_id: str) -> int:
    with db.begin() as conn:
        gate_id = conn.execute(select(passes.c.gate).where(passes.c.id == pass_id)).first()
        if gate_id is None:
            raise ListError(_("no pass {id}").format(id=pass_id))
        conn.execute(delete(passes).where(passes.c.id == pass_id))
        return bump(conn, gate_scope(gate_id[0]) if gate_id[0] else DISTRICT)


def list_passes(db: HqDatabase) -> list[dict[str, object]]:
    with db.read() as conn:
        return [dict(row._mapping) for row in conn.execute(select(passes).order_by(passes.c.valid_until))]


@dataclass(frozen=True)
class PolicyFile:
    """A policy checked for publishing: every rule this software knows, with its value or its default (HQ
    decides, not each gate's version), plus the sections and keys it does not know, as written."""

    data: dict[str, Any]
    ignored: tuple[str, ...]
    """Sections and keys this version does not know: published as they are (newer gates apply them), ignored
    by gates of this version or older. A misspelling looks the same, so they are shown before publishing."""


def policy_file(path: Path) -> PolicyFile:
    """Read and check a policy file as gates will read it (`sync.core.policy.read_policy`): a bad value in a rule
    this version knows is a ListError; rules it does not know are named in `ignored`."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ListError(_("cannot read policy file {path}: {error}").format(path=path, error=exc.strerror)) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ListError(_("policy file {path} is not valid TOML: {error}").format(path=path, error=exc)) from exc
    try:
        reading = read_policy(data)
    except PolicyError as exc:
        raise ListError(f"policy file {path} is {exc}") from exc
    return PolicyFile(_with_unknown(reading.policy.model_dump(mode="json"), to_jsonable_python(data)), reading.ignored)


def _with_unknown(known: dict[str, Any], written: dict[str, Any]) -> dict[str, Any]:
    """`known` with what `written` has that it lacks, at any depth."""
    for key, value in written.items():
        if key not in known:
            known[key] = value
        elif isinstance(known[key], dict) and isinstance(value, dict):
            _with_unknown(known[key], value)
    return known


def set_policy(db: HqDatabase, policy: PolicyFile | None) -> int:
    """Publish a checked policy file to every gate, whole, or with None stop publishing one."""
    with db.begin() as conn:
        conn.execute(delete(settings).where(settings.c.key == POLICY_KEY))
        if policy is not None:
            conn.execute(insert(settings).values(key=POLICY_KEY, value=json.dumps(policy.data, sort_keys=True)))
        return bump(conn, DISTRICT)


def current_policy(db: HqDatabase) -> PolicyFile | None:
    """The published policy as gates receive it, and what this software does not know of it."""
    with db.read() as conn:
        text = conn.execute(select(settings.c.value).where(settings.c.key == POLICY_KEY)).scalar()
    if text is None:
        return None
    try:
        data = json.loads(text)
        return PolicyFile(data, read_policy(data).ignored)
    except (ValueError, PolicyError) as exc:
        raise ListError(_("the stored policy is unreadable ({error}); set it again").format(error=exc)) from exc


def trust_documents_from(paths: list[Path]) -> list[TrustDocument]:
    """Trust documents from files, read with the gates' own parser so HQ never publishes what gates refuse:
    PGC1 issuer keys (a PEM public key, or a keys folder from `keys init`: its trust/*.pub.pem) and any other
    trust file (EU DCC signer certificates in PEM or DER, a SMART Health Card JWKS that names its issuer or an
    issuer directory, a revocation list)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            folder = path / "trust" if (path / "trust").is_dir() else path
            files += sorted(folder.glob(f"*{PUBLIC_KEY_SUFFIX}"))
        else:
            files.append(path)
    if not files:
        raise ListError(_("no public key files (*.pub.pem) found in {paths}").format(paths=", ".join(map(str, paths))))
    documents = []
    for file in files:
        try:
            data = read_trust_file(file)
        except TrustError as exc:
            raise ListError(str(exc)) from exc
        try:
            if data.count(b"-----BEGIN") == 1 and b"-----BEGIN PUBLIC KEY-----" in data:
                trusted = read_issuer_key(data, label=file.name)
                documents.append(TrustDocument.from_bytes(ISSUER_PUBLIC_KEY, trusted.kid.hex(), data, label=file.name))
                continue
            staged = TrustList()
            summary = staged.add_document(data, file.name)
        except TrustError as exc:
            raise ListError(str(exc)) from exc
        if problems := staged.storage_problems():
            raise ListError(f"{file.name}: {problems[0]}")
        documents.append(TrustDocument.from_bytes(TRUST_FILE, file.name, data, label=summary.contents()[:500]))
    return documents


def add_trust(db: HqDatabase, documents: list[TrustDocument]) -> int:
    """Publish trust documents to every gate (a document with the same type and id is replaced)."""
    moment = utc_text(datetime.now(UTC))
    with db.begin() as conn:
        for doc in documents:
            conn.execute(delete(trust_documents).where(trust_documents.c.type == doc.type, trust_documents.c.id == doc.id))
            conn.execute(insert(trust_documents).values(**doc.model_dump(), added_at=moment))
        return bump(conn, DISTRICT)


def remove_trust(db: HqDatabase, doc_id: str, doc_type: str = ISSUER_PUBLIC_KEY) -> int:
    with db.begin() as conn:
        gone = conn.execute(
            delete(trust_documents).where(trust_documents.c.type == doc_type, trust_documents.c.id == doc_id)
        ).rowcount
        if not gone:
            raise ListError(_("no trusted {type} {id}").format(type=doc_type, id=doc_id))
        return bump(conn, DISTRICT)


def list_trust(db: HqDatabase) -> list[TrustDocument]:
    with db.read() as conn:
        rows = conn.execute(
            select(
                trust_documents.c.type,
                trust_documents.c.id,
                trust_documents.c.label,
                trust_documents.c.content,
                trust_documents.c.encoding,
            ).order_by(trust_documents.c.type, trust_documents.c.id)
        )
        return [TrustDocument(type=r.type, id=r.id, label=r.label, content=r.content, encoding=r.encoding) for r in rows]
