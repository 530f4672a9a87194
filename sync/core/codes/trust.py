"""The gate's trust list: every key or certificate a code may be signed with, each held by the code format it
serves, read from the trust documents a gate or HQ hands over.

A trust document is the bytes of one file: the gate's folder, `pocket-kiosk trust import`, `check --trust FILE`
and the HQ bundle all feed `TrustList.add_document` the same way. This module reads what every document has in
common (a size limit, PEM blocks, a JSON object, or other binary data such as a DER certificate) and hands each
part to the parser a code format registered for it (`sync.core.codes.registry`): a PEM block by its label ('PUBLIC
KEY', 'CERTIFICATE'), a JSON document by the member that marks its kind ('keys', 'participating_issuers',
'rids'), binary data to each binary parser in turn. What a parser finds goes into its format's own section of
the list (`TrustList.section`), where that format looks it up when it verifies a code: nothing here knows a
format, so a new one brings its own parsers and its own section.

Key ids are derived from the key material itself, so a file name or a `kid` field can never lie about them.
A whole document is read before anything is added, so a bad file changes nothing; a PEM private key is refused
whichever format it would be for.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol, Self, TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

PUBLIC_KEY_SUFFIX = ".pub.pem"
TRUST_FILE_PATTERNS = ("*.pem", "*.crt", "*.cer", "*.der", "*.json")
"""Files `from_dir` reads (`*.pub.pem`, our issuer keys, is among `*.pem`)."""
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
"""A national DSC list or a directory of SMART Health Card issuers is a few MB at most."""

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----", re.DOTALL)


class TrustError(Exception):
    """A trust file could not be read; the message names the file and the problem."""


def key_id(public_key: ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey) -> bytes:
    """First 8 bytes of SHA-256 over the DER SubjectPublicKeyInfo."""
    spki = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).digest()[:8]


class TrustSection(Protocol):
    """One code format's part of a trust list (its issuer keys, its signer certificates, its revocations).
    A section class makes an empty section when called with no argument."""

    def __len__(self) -> int:
        """How many keys or certificates it holds (what `len(trust)` counts)."""
        ...

    def merge(self, other: Self) -> None:
        """Add every entry of another section of the same kind."""
        ...

    def storage_problem(self) -> str | None:
        """Why these entries cannot be kept as they are in a gate's trust store, or None."""
        ...


S = TypeVar("S", bound=TrustSection)


@dataclass
class TrustSummary:
    """What one trust document held, for the import command and the HQ bundle's report."""

    label: str
    kind: str
    """What the document is: 'pem', or the kind its parser names ('x509-der', 'jwks', 'shc-directory'...)."""
    counts: dict[str, int] = field(default_factory=dict)
    """How many of each thing it held, by the name a format gives it ('EU DCC document signer'), in the order
    they were found."""
    skipped: list[str] = field(default_factory=list)
    """Entries left out, each with why (e.g. an encryption key in a JWKS)."""

    def add(self, noun: str) -> None:
        self.counts[noun] = self.counts.get(noun, 0) + 1

    def counted(self, noun: str) -> int:
        return self.counts.get(noun, 0)

    @property
    def entries(self) -> int:
        return sum(self.counts.values())

    def contents(self) -> str:
        """What it held, in words: '1 EU DCC document signer, 2 SMART Health Card issuer keys'."""
        parts = [f"{count} {noun}{'' if count == 1 else 's'}" for noun, count in self.counts.items() if count]
        text = ", ".join(parts) or "nothing usable"
        if self.skipped:
            shown = "; ".join(self.skipped[:3]) + ("..." if len(self.skipped) > 3 else "")
            text += f" ({len(self.skipped)} skipped: {shown})"
        return text

    def describe(self) -> str:
        return f"{self.label}: {self.contents()}"


@dataclass
class DocumentPart:
    """What a parser is given besides the content: where it is (for messages), the trust list it adds to, the
    summary it counts into, and the issuer the document is bound to when it names none itself."""

    where: str
    into: TrustList
    summary: TrustSummary
    issuer: str | None = None

    def section(self, kind: type[S]) -> S:
        return self.into.section(kind)


@dataclass(frozen=True)
class TrustParser:
    """How a code format reads one kind of trust document, or one kind of PEM block."""

    form: Literal["pem", "json", "binary"]
    marker: str
    """The PEM block label it reads ('PUBLIC KEY'), or the JSON member whose presence marks its documents
    ('keys'); empty for binary data, which is offered to each binary parser in turn."""
    kind: str
    """What such a document is called in summaries ('jwks', 'x509-der'); a PEM file is 'pem' whatever its blocks."""
    described: str
    """Its name in the message for a file nobody can read ('a JWKS', 'a DER certificate')."""
    read: Callable[[Any, DocumentPart], bool]
    """Adds what the content holds (PEM block bytes, the JSON object, or the binary data); False only for binary
    data that is not its kind. Raises TrustError for content of its kind that cannot be used."""


_PARSERS: list[TrustParser] = []


def register_parsers(parsers: tuple[TrustParser, ...]) -> None:
    """Let trust lists read these parsers' documents (a code format's registration calls this)."""
    _PARSERS.extend(parsers)


def _parsers(form: str) -> list[TrustParser]:
    return [parser for parser in _PARSERS if parser.form == form]


class TrustList:
    """Keys and certificates the gate believes, one section per code format."""

    def __init__(self) -> None:
        self._sections: dict[type, Any] = {}
        self.updated_at: datetime | None = None
        """When the stored trust list was last refreshed (import or HQ sync); None when it came from files
        only, which have no freshness to judge."""

    def __len__(self) -> int:
        return sum(len(section) for section in self._sections.values())

    def section(self, kind: type[S]) -> S:
        """A format's section (an empty one when the list holds nothing of that format)."""
        if kind not in self._sections:
            self._sections[kind] = kind()
        return self._sections[kind]  # type: ignore[no-any-return]

    def storage_problems(self) -> list[str]:
        """Why the entries cannot be kept as they are in a gate's trust store (say, SMART Health Card keys bound
        to no issuer), as the sections say; empty when they can."""
        return [problem for section in self._sections.values() if (problem := section.storage_problem())]

    def merge(self, other: TrustList) -> None:
        """Add every entry of another trust list."""
        for kind, section in other._sections.items():
            self.section(kind).merge(section)

    # -- adding ------------------------------------------------------------------------------------------

    def add_document(self, data: bytes, label: str, *, issuer: str | None = None) -> TrustSummary:
        """Trust everything in one file's bytes: PEM blocks, a JSON document, or binary data (a DER
        certificate), each read by the parser a code format registered for it.

        The whole document is read before anything is added, so a bad file changes nothing. `issuer` binds the
        keys of a document that does not name the issuer they sign for (a JWKS without `iss`)."""
        if len(data) > MAX_DOCUMENT_BYTES:
            raise TrustError(f"{label}: {len(data)} bytes is too large for a trust file")
        staged = TrustList()
        stripped = data.lstrip()
        if stripped.startswith(b"{"):
            summary = staged._add_json(stripped, label, issuer)
        elif b"-----BEGIN" in data:
            summary = staged._add_pem_blocks(data, label, issuer)
        else:
            summary = staged._add_binary(data, label, issuer)
        if summary.entries == 0:
            why = f" ({'; '.join(summary.skipped)})" if summary.skipped else ""
            raise TrustError(f"{label}: holds no key or certificate the gate can use{why}")
        self.merge(staged)
        return summary

    # -- loading -----------------------------------------------------------------------------------------

    @classmethod
    def from_dir(cls, folder: Path) -> TrustList:
        """Every trust file in `folder` (`*.pem`, `*.crt`, `*.cer`, `*.der`, `*.json`). A missing folder is an
        error: a gate that trusts nothing by accident would refuse everyone, so the keeper must see why."""
        if not folder.is_dir():
            raise TrustError(f"trusted keys folder {folder} does not exist")
        trust = cls()
        paths = sorted({path for pattern in TRUST_FILE_PATTERNS for path in folder.glob(pattern) if path.is_file()})
        for path in paths:
            trust.add_document(read_trust_file(path), label=path.name)
        return trust

    @classmethod
    def from_file(cls, path: Path) -> TrustList:
        """The keys of one trust file alone (`check --trust FILE`). A JWKS that names no issuer is trusted
        for the cards that name its keys, whatever issuer they claim: a diagnosis, not a gate's trust."""
        trust = cls()
        trust.add_document(read_trust_file(path), label=path.name)
        return trust

    # -- the forms of a document -------------------------------------------------------------------------

    def _add_pem_blocks(self, data: bytes, label: str, issuer: str | None) -> TrustSummary:
        summary = TrustSummary(label, "pem")
        blocks = list(_PEM_BLOCK.finditer(data))
        if not blocks:
            raise TrustError(f"{label}: PEM markers without a complete block")
        readers = {parser.marker: parser for parser in _parsers("pem")}
        for number, block in enumerate(blocks, start=1):
            kind = block.group(1).decode("ascii")
            where = f"{label} block {number}" if len(blocks) > 1 else label
            if "PRIVATE KEY" in kind:
                raise TrustError(f"{where}: holds a private key; give gates only public keys and certificates")
            if kind in readers:
                readers[kind].read(block.group(0), DocumentPart(where, self, summary, issuer))
            else:
                summary.skipped.append(f"{where}: {kind} is not a key or certificate")
        return summary

    def _add_json(self, data: bytes, label: str, issuer: str | None) -> TrustSummary:
        try:
            document = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise TrustError(f"{label}: not valid JSON") from exc
        if not isinstance(document, dict):
            raise TrustError(f"{label}: a JSON trust file is an object")
        parsers = _parsers("json")
        matching = [parser for parser in parsers if parser.marker in document]
        if not matching:
            raise TrustError(f"{label}: JSON that is {_listed([p.described for p in parsers], 'neither', 'nor')}")
        if len(matching) > 1:
            raise TrustError(f"{label}: JSON that is at once {_listed([p.described for p in matching], '', 'and')}")
        summary = TrustSummary(label, matching[0].kind)
        matching[0].read(document, DocumentPart(label, self, summary, issuer))
        return summary

    def _add_binary(self, data: bytes, label: str, issuer: str | None) -> TrustSummary:
        for parser in _parsers("binary"):
            summary = TrustSummary(label, parser.kind)
            if parser.read(data, DocumentPart(label, self, summary, issuer)):
                return summary
        kinds = ["PEM"] + [parser.described for parser in _parsers("binary") + _parsers("json")]
        raise TrustError(f"{label}: not a trust file (expected {_listed(kinds, '', 'or')})")


def _listed(names: list[str], first: str, last: str) -> str:
    """'a, b nor c' (with `first` before it when given: 'neither a, b nor c')."""
    text = names[-1] if len(names) == 1 else f"{', '.join(names[:-1])} {last} {names[-1]}"
    return f"{first} {text}" if first else text


def read_trust_file(path: Path) -> bytes:
    """A trust file's bytes, refusing one too large to be genuine before reading it."""
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise TrustError(f"{path.name}: {size} bytes is too large for a trust file")
        return path.read_bytes()
    except OSError as exc:
        raise TrustError(f"cannot read trust file {path}: {exc.strerror}") from exc
