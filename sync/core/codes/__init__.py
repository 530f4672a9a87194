"""Health-code formats behind one call: `read_code(text, trust, now)` gives a Credential or raises CodeError.

Formats register here; nothing else in the gate knows which formats exist.
"""

from __future__ import annotations

from datetime import datetime

from sync.core.codes.base import Checks, CodeError, CodeFormat, Colour, Credential, Evidence, Reason
from sync.core.codes.hcert import HC1
from sync.core.codes.pgc import PGC1
from sync.core.codes.shc import SHC
from sync.core.codes.trust import TrustList

FORMATS: list[CodeFormat] = [PGC1(), HC1(), SHC()]
"""Our own health code, EU Digital COVID Certificates, SMART Health Cards. Each instance lives as long as the
process, so a format that needs state across scans (SHC chunks) keeps it in itself."""

__all__ = [
    "FORMATS",
    "Checks",
    "CodeError",
    "CodeFormat",
    "Colour",
    "Credential",
    "Evidence",
    "Reason",
    "TrustList",
    "read_code",
]


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
    return fmt.verify(text, trust, now)
