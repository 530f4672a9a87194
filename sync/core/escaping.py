"""Making hostile text safe to print: scanned or typed strings never reach a terminal as raw control codes.

Markup escaping for the Textual UI happens there (Rich's `escape`); this module handles what every output
needs, terminal or JSON: control and format characters (ESC, BEL, DEL, bidi overrides...) become visible
escapes, and length is bounded (counted in characters of the original text).
"""

from __future__ import annotations

import unicodedata

_UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def visible(text: str, limit: int = 300) -> str:
    """`text` with every control, format, surrogate or unassigned character shown as a \\x/\\u escape, cut to
    `limit` characters with an ellipsis."""
    out: list[str] = []
    for ch in text[:limit]:
        if unicodedata.category(ch) in _UNSAFE_CATEGORIES:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out) + ("…" if len(text) > limit else "")
