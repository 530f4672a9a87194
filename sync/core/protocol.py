"""The wire between a gate and HQ: pydantic models both sides validate, with a protocol version in every body.

Rules of the road:
- Every body carries `protocol`. HQ speaks the versions in `SUPPORTED_PROTOCOLS` and refuses others with 422
  and a readable reason, so an old gate is told to update instead of being misread.
- Within one protocol version, models ignore fields they do not know: HQ can add a bundle section (or a
  gate a field) and older peers keep working. Fields a version has are never re-purposed.
- Entries travel exactly as the gate stored them (JSON text fields stay text), because HQ recomputes each
  entry's hash with `sync.core.chain.entry_hash` and a re-encoded field would look like an edit.
- HQ judges an upload entry by entry: the batch (`IncomingBatch`) only has to be a batch (increasing `seq`,
  distinct ids), and an entry that is not a `WireEntry` is refused on its own, named with its reason in the
  receipt's `refusals`, while the others are stored. One bad entry never blocks a gate's later ones.
- Trust material is a list of typed documents, so new kinds (X.509 certificates for EU DCC, JWKS for SMART
  Health Cards) are new `type` values, not a new protocol.
- The district key stays at HQ (protocol 1, second edition; every addition is a field older peers ignore): a
  bundle carries the gate's own key (`gate_key`), HQ's public sealing key (`seal_key`), and on every list row
  the ID's hash under the gate's key (`id_hash`) beside the district subject. A gate of the first edition
  ignores them and keeps hashing typed numbers with the district key it was given, which still matches the
  rows' subjects; a gate of this edition deletes that key once a bundle brings its own. An entry for a typed
  number on none of the gate's lists has no subject; its details carry `sealed_id` (the number sealed to HQ,
  `sync.core.sealing`), which HQ resolves on ingest. HQ's bundle-signing key can change: the
  envelope then carries the `endorsements` that lead from the key a gate pinned to the new one.
"""

from __future__ import annotations

import base64
from datetime import datetime
from enum import StrEnum
from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from sync.core.readings import BodyTemperature

PROTOCOL_VERSION = 1
ENTRIES_PROTOCOL = 2
"""Upload batches whose entries may carry `reason_codes`. An HQ older than that field would leave it out and then
find each such entry's hash wrong (a false alarm of an edit), so it must refuse the batch instead: it does, with
422 'protocol 2 is not spoken here', and the gate shows that until HQ is updated. Update HQ before its gates."""
SUPPORTED_PROTOCOLS = frozenset({1, 2})
BUNDLE_PROTOCOLS = frozenset({PROTOCOL_VERSION})
"""The bundle versions a gate reads: protocol 2 changed uploads only, so a bundle saying 2 is not one HQ made."""

MAX_BATCH_ENTRIES = 2000
"""HQ refuses a batch with more entries than this (the gate sends at most its configured batch size)."""
MAX_BODY_BYTES = 4 * 1024 * 1024
"""HQ refuses a request body larger than this with 413 before reading it all."""
MAX_BUNDLE_BYTES = 256 * 1024 * 1024
"""A gate refuses a bundle larger than this (a district roster with every field is far smaller)."""

GATE_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
GateId = Annotated[str, StringConstraints(pattern=GATE_ID_PATTERN)]
EntryId = Annotated[str, StringConstraints(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")]
"""A ULID, as the gate's store makes them."""
BatchId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,100}$")]
Hash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Subject = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
_Text = Annotated[str, StringConstraints(max_length=20_000)]
_Short = Annotated[str, StringConstraints(max_length=500)]


class _Wire(BaseModel):
    """Forward compatible within a protocol version: unknown fields are ignored, known ones checked."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class WireEntry(_Wire):
    """One gate entry exactly as the gate's `entries` table holds it (see kiosk/store.py)."""

    id: EntryId
    seq: Annotated[int, Field(ge=1, lt=2**62)]
    ts: Annotated[str, StringConstraints(min_length=10, max_length=40)]
    """UTC ISO 8601 with milliseconds (`sync.core.clock.utc_text`), the form the gate writes: it sorts as text."""
    gate: GateId
    direction: Literal["in", "out"]
    subject: Subject | None
    name: _Short
    code_type: Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]{1,40}$")]
    """Made by the gate's software ('PGC1', 'manual', ...), never scanned: no control characters."""
    colour: Literal["green", "yellow", "red"] | None
    verdict: Literal["pass", "hold", "refuse"]
    reasons: _Text
    """JSON text of a list of plain-word reasons (in English), as stored."""
    reason_codes: _Text | None = None
    """JSON text of each reason's rule code and parameters (`sync.core.wording`), as stored; None from gates
    older than reason codes. Chained when present (`sync.core.chain.OPTIONAL_FIELDS`)."""
    temperature: BodyTemperature | None
    """Held to the range the gate takes readings in (`sync.core.readings`): anything else was never a reading."""
    operator: _Short
    details: _Text
    """JSON text of a map, as stored."""
    prev_hash: Hash
    hash: Hash

    @field_validator("ts")
    @classmethod
    def _utc_text(cls, ts: str) -> str:
        try:
            moment = datetime.fromisoformat(ts)
        except ValueError:
            raise ValueError("is not an ISO 8601 time") from None
        if moment.utcoffset() is None or moment.utcoffset().total_seconds() != 0 or ts != moment.isoformat(
            timespec="milliseconds"
        ):
            raise ValueError("is not a UTC time with milliseconds, as gates write it (2024-05-01T08:00:00.000+00:00)")
        return ts


class UploadBatch(_Wire):
    """POST /v1/gates/{gate}/entries: a run of the gate's entries in sequence order."""

    protocol: int = ENTRIES_PROTOCOL
    gate: GateId
    batch_id: BatchId
    """Idempotency key: the same batch re-sent (after a dropped answer) carries the same id, and HQ answers it
    from its record instead of ingesting again."""
    entries: Annotated[list[WireEntry], Field(min_length=1, max_length=MAX_BATCH_ENTRIES)]

    @model_validator(mode="after")
    def _ordered(self) -> UploadBatch:
        seqs = [e.seq for e in self.entries]
        if any(b <= a for a, b in pairwise(seqs)):
            raise ValueError("entries must be in strictly increasing seq order")
        if len({e.id for e in self.entries}) != len(self.entries):
            raise ValueError("an entry id appears twice in the batch")
        return self


class IncomingBatch(_Wire):
    """An upload that is not an `UploadBatch` as HQ reads it: a batch whose entries are still plain JSON objects.
    Only what makes it a batch is checked here (each entry has an integer `seq`, increasing; no id twice); each
    entry is then judged on its own against `WireEntry` (sync/hq/ingest.py), so one entry HQ cannot take is
    refused alone."""

    protocol: int = PROTOCOL_VERSION
    gate: GateId
    batch_id: BatchId
    entries: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=MAX_BATCH_ENTRIES)]

    @model_validator(mode="after")
    def _ordered(self) -> IncomingBatch:
        seqs = [e.get("seq") for e in self.entries]
        if not all(type(seq) is int and -(2**63) <= seq < 2**63 for seq in seqs):
            raise ValueError("every entry needs an integer seq (a 64-bit one, as databases hold)")
        if any(b <= a for a, b in pairwise(seqs)):  # type: ignore[operator]
            raise ValueError("entries must be in strictly increasing seq order")
        ids = [e["id"] for e in self.entries if isinstance(e.get("id"), str)]
        if len(set(ids)) != len(ids):
            raise ValueError("an entry id appears twice in the batch")
        return self


class AlertKind(StrEnum):
    """What HQ found wrong with a gate's history; each is recorded and shown, never silently accepted."""

    GAP = "gap"
    """Sequence numbers are missing: entries were deleted (or purged at the gate before upload)."""
    EDITED = "edited"
    """An entry's content does not match its hash, or differs from the copy HQ already holds."""
    BROKEN = "broken"
    """An entry does not follow the one before it (its prev_hash is wrong): history was rewritten."""
    REWRITTEN = "rewritten"
    """A sequence number HQ already holds arrived again as a different entry; the new one is not stored."""
    REFUSED = "refused"
    """An entry HQ cannot take as sent (a malformed field, an implausible sequence number); not stored. Raised
    in HQ's alert list, but sent to gates only as a `Refusal`: gates of the first release know the four
    kinds above only, and refuse a receipt with another."""
    UNRESOLVED = "unresolved"
    """An entry for an ID number typed at the gate, sealed to HQ, that HQ could not open (no district key, or a
    damaged seal): stored without a subject. HQ's alert list only, like REFUSED."""
    TWO_GATES = "two_gates"
    """One subject let in at two different gates within `[presence] two_gates_window_minutes`, without leaving in
    between (`sync.hq.two_gates`): one code on two phones? HQ's alert list only, like REFUSED."""


RECEIPT_ALERT_KINDS = frozenset({AlertKind.GAP, AlertKind.EDITED, AlertKind.BROKEN, AlertKind.REWRITTEN})
"""The alert kinds a receipt's `alerts` carry (every gate understands these)."""


class Alert(_Wire):
    kind: AlertKind
    seq: int
    detail: str


class Refusal(_Wire):
    """One entry of an upload that HQ did not store, and why. The gate keeps it (and says so) instead of
    counting it as delivered."""

    seq: int
    id: str
    """The entry's id as sent (empty when it sent none that is text)."""
    kind: AlertKind
    """REWRITTEN (HQ holds another entry at this seq), EDITED (HQ holds this entry with other content, or its
    content does not match its hash) or REFUSED (HQ cannot take it as sent)."""
    reason: str


class UploadReceipt(_Wire):
    """HQ's answer to an upload: what it now holds. The gate moves its cursor to `through_seq` on receipt."""

    protocol: int = PROTOCOL_VERSION
    gate: GateId
    batch_id: str
    received: int
    """Entries in the batch."""
    stored: int
    """Entries new to HQ and stored by this request."""
    duplicates: int
    """Entries HQ already held, identical (a re-sent batch)."""
    refused: int
    """Entries not stored: HQ holds a different entry with the same id or sequence, or cannot take the entry
    as sent (each named in `refusals`)."""
    through_seq: int
    """The highest sequence number in the batch: everything up to it is held by HQ or named in `refusals`."""
    chain_seq: int
    """How far HQ has followed this gate's hash chain."""
    alerts: list[Alert] = []
    refusals: list[Refusal] = []
    """Every entry of the batch HQ did not store, with its reason (absent from HQs before it was added: a gate
    then finds the refused entries among the alerts)."""
    replayed: bool = False
    """True when this answer was recorded for the same batch id earlier (nothing was ingested again)."""


Count = Annotated[int, Field(ge=0, lt=2**62)]


class DayCount(_Wire):
    """One day's counts at a gate, as `pocket-kiosk report --day` gives them (`kiosk.shift.day_tally`): one
    passage per attempt (an amendment replaces what it amends). `start` and `end` are the day's bounds (the
    district's midnights, as the gate reads the zone HQ's bundle names), so HQ counts the very same window."""

    day: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    start: datetime
    end: datetime
    attempts: Count
    let_in: Count
    left: Count
    refused: Count
    held: Count

    @model_validator(mode="after")
    def _a_day(self) -> DayCount:
        if self.start.utcoffset() is None or self.end.utcoffset() is None:
            raise ValueError("start and end need a time zone")
        if not 20 * 3600 <= (self.end - self.start).total_seconds() <= 28 * 3600:
            raise ValueError("a day runs from one midnight to the next (20 to 28 hours)")
        if self.let_in + self.left + self.refused + self.held != self.attempts:
            raise ValueError("let in, left, refused and held must add up to the attempts")
        return self


MAX_DAYS_REPORTED = 31
"""At most this many days in one `DayReport` (a gate sends the days it finished since its last report)."""


class DayReport(_Wire):
    """POST /v1/gates/{gate}/days: the gate's own counts of days it has finished and uploaded whole (every entry
    of the day is held by HQ), for daily reconciliation. HQ keeps the latest report of each gate and day. Sent
    after the upload; an HQ without this route answers 404 and the gate carries on (and an HQ never needs it)."""

    protocol: int = PROTOCOL_VERSION
    gate: GateId
    days: Annotated[list[DayCount], Field(min_length=1, max_length=MAX_DAYS_REPORTED)]

    @model_validator(mode="after")
    def _distinct(self) -> DayReport:
        if len({d.day for d in self.days}) != len(self.days):
            raise ValueError("a day appears twice in the report")
        return self


class DayReceipt(_Wire):
    """HQ's answer to a `DayReport`: how many days it stored."""

    protocol: int = PROTOCOL_VERSION
    gate: GateId
    stored: int


INCIDENT_OUTCOMES = ("sent home", "waiting for the health team", "left")
"""What a keeper records was done about a red-code incident (the words are the protocol's; screens translate)."""
MAX_INCIDENTS_SENT = 100


class IncidentProcedure(_Wire):
    """The district's procedure for a red code (or a red-listed person) refused at a gate: the steps the keeper
    follows and the phone to call, set at HQ (`pocket-hq incidents procedure`) and sent in the bundle."""

    steps: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=200)]], Field(max_length=10)] = []
    phone: Annotated[str, StringConstraints(max_length=40)] = ""


class WireIncident(_Wire):
    """A red-code incident as the gate records it: the refused entry's person and reasons, and what was done."""

    id: EntryId
    entry_id: EntryId
    ts: Annotated[str, StringConstraints(min_length=10, max_length=40)]
    """UTC ISO 8601 with milliseconds, when the keeper recorded what was done."""
    subject: Subject | None = None
    name: _Short = ""
    colour: _Short = ""
    reasons: Annotated[list[_Short], Field(max_length=20)] = []
    outcome: Literal["sent home", "waiting for the health team", "left"]
    keeper: _Short = ""


class IncidentReport(_Wire):
    """POST /v1/gates/{gate}/incidents: red-code incidents, sent before the entry backlog so HQ sees them at once.
    HQ keeps each once (by id); an HQ without this route answers 404 and the gate tries again next sync."""

    protocol: int = PROTOCOL_VERSION
    gate: GateId
    incidents: Annotated[list[WireIncident], Field(min_length=1, max_length=MAX_INCIDENTS_SENT)]


class IncidentReceipt(_Wire):
    """HQ's answer to an `IncidentReport`: how many it had not had before."""

    protocol: int = PROTOCOL_VERSION
    gate: GateId
    new: int


class GateInfo(_Wire):
    """GET /v1/gate: who the token belongs to, and what HQ holds for it (enrolment checks this)."""

    protocol: int = PROTOCOL_VERSION
    gate: GateId
    chain_seq: int
    """Highest sequence number HQ has followed in this gate's chain."""
    bundle_version: int
    signing_key_pem: str
    """HQ's bundle-signing public key; the gate pins it at enrolment."""
    signing_key_fingerprint: Hash
    server_time: datetime
    chain_hash: Hash | None = None
    """The hash of the entry at `chain_seq` (absent from HQs before it was added): a new laptop for a gate HQ
    already holds entries of continues the chain from there."""


class BundleNotice(_Wire):
    """GET /v1/gates/{gate}/bundle/wait?after=N&seconds=S: HQ's answer to a gate waiting for a new bundle, as soon
    as the gate's bundle version is past N, or when S seconds are up. `version` > N: fetch the bundle now."""

    protocol: int = PROTOCOL_VERSION
    gate: GateId
    version: int


class RosterRow(_Wire):
    subject: Subject
    name: _Short = ""
    unit: _Short = ""
    phone: Annotated[str, StringConstraints(pattern=r"^[0-9]{0,20}$")] = ""
    """The household's phone (digits), for the keeper to call a visitor's host; empty when the roster has none."""
    id_hash: Subject | None = None
    """The ID's hash under this gate's key (`sync.core.identity.gate_hash`), to find the row from a typed number;
    None for a row HQ holds no ID number for (loaded before gate keys: load the list again)."""


class PassRow(_Wire):
    id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    subject: Subject
    id_hash: Subject | None = None
    kind: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    valid_from: Annotated[str, StringConstraints(max_length=40)]
    """UTC ISO 8601 with milliseconds (`sync.core.clock.utc_text`), so the gate's text comparisons hold."""
    valid_until: Annotated[str, StringConstraints(max_length=40)]
    note: _Short = ""


class ColourRow(_Wire):
    subject: Subject
    colour: Literal["green", "yellow", "red"]
    note: _Short = ""
    id_hash: Subject | None = None
    until: Annotated[str, StringConstraints(max_length=40)] | None = None
    """UTC ISO 8601 with milliseconds: the row lapses then by itself (an entry from a trace); None for no end."""
    lapses_to: Literal["yellow", "red"] | None = None
    """The colour in force once `until` has passed (the uploaded list's, under a stronger traced entry); None: off
    the list then."""


class GateKey(_Wire):
    """The gate's own key for hashing typed ID numbers. A new generation after `pocket-hq gates rekey`."""

    generation: Annotated[int, Field(ge=1)]
    key: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


ISSUER_PUBLIC_KEY = "issuer-public-key"
"""Trust document type: a PEM SubjectPublicKeyInfo (Ed25519 or P-256) of a PGC1 code issuer; `id` is its key id
(hex)."""
TRUST_FILE = "trust-file"
"""Trust document type: any trust file the gate's trust list reads (`sync.core.codes.trust.TrustList.add_document`):
X.509 document-signer certificates (PEM or DER) for EU DCC, a JWKS or issuer directory for SMART Health Cards,
a revocation list; `id` is its name."""
GATE_TRUST_TYPES = frozenset({ISSUER_PUBLIC_KEY, TRUST_FILE})
"""The types a gate of this version applies; it keeps documents of other types without applying them."""


class TrustDocument(_Wire):
    """One piece of trust material. `type` says how to read `content`; a gate keeps every document it is sent
    (in `sync_trust_documents`) and applies the types it knows, so new kinds need no protocol change."""

    type: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.+-]{0,63}$")]
    id: Annotated[str, StringConstraints(min_length=1, max_length=180)]
    label: _Short = ""
    content: Annotated[str, StringConstraints(max_length=6 * 1024 * 1024)]
    """The document: text as its type defines it (PEM, JSON), or base64 of its bytes (a DER certificate)."""
    encoding: Literal["text", "base64"] = "text"

    def data(self) -> bytes:
        """The document's bytes (raises ValueError when base64 content is not base64)."""
        return base64.b64decode(self.content, validate=True) if self.encoding == "base64" else self.content.encode()

    @classmethod
    def from_bytes(cls, doc_type: str, doc_id: str, data: bytes, label: str = "") -> TrustDocument:
        """Text documents travel as text (readable in the bundle), anything else as base64."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = ""
        if text and "\x00" not in text:
            return cls(type=doc_type, id=doc_id, label=label, content=text)
        return cls(type=doc_type, id=doc_id, label=label, content=base64.b64encode(data).decode(), encoding="base64")


class BundleContent(_Wire):
    """What HQ publishes to one gate. `version` only grows; a gate never applies an older one."""

    protocol: int = PROTOCOL_VERSION
    gate: GateId
    version: Annotated[int, Field(ge=1)]
    issued_at: datetime
    roster: list[RosterRow] = []
    passes: list[PassRow] = []
    colour_list: list[ColourRow] = []
    policy: dict[str, Any] | None = None
    """The district's rules (the shape of config/policy.toml), or None when HQ leaves the gate's own file."""
    trust: list[TrustDocument] = []
    timezone: str | None = None
    """The district's time zone (an IANA name, HQ's `--timezone`) every time a keeper reads is shown in; None:
    HQ names none, and the gate keeps its own `timezone`."""
    gate_key: GateKey | None = None
    """This gate's key, which hashed the rows' `id_hash` (None from an HQ without the district key)."""
    seal_key: Annotated[str, StringConstraints(max_length=4096)] | None = None
    """HQ's X25519 public key (PEM): typed ID numbers on no list are sealed to it (`sync.core.sealing`)."""
    procedure: IncidentProcedure | None = None
    """What a keeper does when a red code is refused (None: HQ set none, and gates ask nothing of the keeper)."""


class KeyEndorsement(_Wire):
    """HQ's next bundle-signing public key, signed by the key before it (`pocket-hq signing-key rotate`)."""

    key_pem: Annotated[str, StringConstraints(max_length=4096)]
    signed_by: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
    """Key id of the key that signed this endorsement."""
    signature: Annotated[str, StringConstraints(max_length=200)]
    """base64 of the Ed25519 signature, by `signed_by`, over `ENDORSEMENT_CONTEXT` and the new key's DER."""


class SignedBundle(_Wire):
    """GET /v1/gates/{gate}/bundle: the content as exact bytes (base64) and HQ's signature over those bytes,
    so nothing depends on re-serialising JSON the same way twice."""

    protocol: int = PROTOCOL_VERSION
    alg: Literal["Ed25519"] = "Ed25519"
    key_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
    payload: str
    """base64 of the UTF-8 JSON of a BundleContent."""
    signature: str
    """base64 of the Ed25519 signature over the payload bytes (not the base64 text)."""
    endorsements: Annotated[list[KeyEndorsement], Field(max_length=100)] = []
    """Every rotation of HQ's signing key, oldest first: a gate that pinned an older key follows them to the key
    that signed this bundle, and pins that one."""


class Problem(_Wire):
    """Every error answer from HQ: a readable reason (FastAPI's `detail`)."""

    detail: str
