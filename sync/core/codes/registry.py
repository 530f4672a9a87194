"""The code formats a gate reads, each registered with its decoder and its trust-document parsers.

`read_code(text, trust, now)` finds the format whose prefix the text carries and has it verify the text; the
scanner, the policy, the store and the UI only ever see the Credential or the CodeError it gives. Registering a
format (`register`, called once per format in `sync/core/codes/__init__.py`) also lets every trust list read the
documents that format's keys come in (`sync.core.codes.trust`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Protocol

from sync.core.codes.base import CodeError, Credential, Reason
from sync.core.codes.trust import TrustList, TrustParser, register_parsers


class CodeFormat(Protocol):
    """One credential format. `verify` never raises anything but CodeError."""

    name: str
    prefixes: tuple[str, ...]
    trust_parsers: tuple[TrustParser, ...]
    """How the documents its keys come in are read into its own section of a trust list."""

    def verify(self, text: str, trust: TrustList, now: datetime) -> Credential: ...


FORMATS: list[CodeFormat] = []
"""The registered formats, in the order their prefixes are tried. Each instance lives as long as the process,
so a format that needs state across scans (SHC chunks) keeps it in itself."""


def register(fmt: CodeFormat) -> None:
    """Read codes of this format, and the trust documents its keys come in."""
    FORMATS.append(fmt)
    register_parsers(fmt.trust_parsers)


def format_for(text: str) -> CodeFormat | None:
    """The format whose prefix the text carries (case-sensitive: QR alphanumeric mode is upper-case)."""
    for fmt in FORMATS:
        if text.startswith(fmt.prefixes):
            return fmt
    return None


def read_code(text: str, trust: TrustList, now: datetime) -> Credential:
    """Verify a scanned text against the trust list as of `now`."""
    fmt = format_for(text)
    if fmt is None:
        raise CodeError(Reason.NOT_OURS)
    try:
        return fmt.verify(text, trust, now)
    except CodeError as error:
        if error.holder is not None:
            error.holder = replace(error.holder, format=fmt.name)
        raise
