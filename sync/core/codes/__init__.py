"""Health-code formats behind one call: `read_code(text, trust, now)` gives a Credential or raises CodeError.

The formats are registered here, one line each; nothing else in either program knows which formats exist. A
format is a module with its decoder (a class with `name`, `prefixes`, `verify` and `trust_parsers`, see
`registry.CodeFormat`) and the parsers of the trust documents its keys come in, which keep what they read in
the format's own section of the trust list.
"""

from __future__ import annotations

from sync.core.codes.base import Checks, CodeError, Colour, Credential, Evidence, Holder, Reason
from sync.core.codes.hcert import HC1
from sync.core.codes.pgc import PGC1
from sync.core.codes.registry import FORMATS, CodeFormat, read_code, register
from sync.core.codes.shc import SHC
from sync.core.codes.trust import TrustList

register(PGC1())  # our own health code
register(HC1())  # EU Digital COVID Certificates
register(SHC())  # SMART Health Cards

__all__ = [
    "FORMATS",
    "Checks",
    "CodeError",
    "CodeFormat",
    "Colour",
    "Credential",
    "Evidence",
    "Holder",
    "Reason",
    "TrustList",
    "read_code",
]
