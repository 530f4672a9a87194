"""What every code format produces (a Credential) and how it fails (a CodeError with a Reason).

The scanner, the policy, the store and the UI only ever see these two types, so a new format (EU DCC,
SMART Health Cards) plugs in without touching them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from kiosk.codes.trust import TrustList


class Colour(StrEnum):
    """Health-code colour as issued (a red/yellow list at the gate may override it)."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class Reason(StrEnum):
    """Why a scanned text is not a valid credential; the value is the plain words shown to the keeper."""

    NOT_OURS = "not a health code this gate reads"
    TOO_LARGE = "code is too large to be genuine"
    MALFORMED = "code is damaged or malformed"
    UNKNOWN_ISSUER = "code signed by an unknown issuer"
    BAD_SIGNATURE = "code signature is invalid (forged or altered)"
    EXPIRED = "code has expired"
    NOT_YET_VALID = "code is not valid yet"


class CodeError(Exception):
    """A scanned text failed to become a credential. `reason` is machine-readable, `str()` readable."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)


@dataclass(frozen=True)
class Credential:
    """A verified credential. Every field was type-checked and covered by a valid signature."""

    format: str
    """Short name of the code format, e.g. 'PGC1'."""
    issuer: str
    kid: str
    """Key id (hex) of the key that signed it."""
    subject: str | None
    """Keyed hash of the holder's ID number, or None when the format carries no hashable identity."""
    name: str
    """Masked display name."""
    colour: Colour | None
    issued_at: datetime
    expires_at: datetime
    negative_test_at: datetime | None = None
    travel_risk: bool | None = None
    extra: dict[str, str] = field(default_factory=dict)
    """Format-specific facts worth showing (already plain strings)."""


class CodeFormat(Protocol):
    """One credential format. `verify` never raises anything but CodeError."""

    name: str
    prefixes: tuple[str, ...]

    def verify(self, text: str, trust: TrustList, now: datetime) -> Credential: ...
