"""Showing hostile text: everything scanned or typed goes through here before it reaches the screen.

`sync.core.escaping.visible` turns control characters (ESC, BEL, bidi overrides...) into visible escapes, and Rich's
`escape` stops markup such as `[bold red]` from being interpreted, so a name shows literally and changes
nothing else on screen. `plain` gives a `Text`, which Textual never parses as markup, for tables and labels.
"""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text

from sync.core.escaping import visible


def shown(text: str, limit: int = 300) -> str:
    """Scanned or typed text made safe to embed in a markup string."""
    return escape(visible(text, limit))


def plain(text: str | None, limit: int = 300, style: str = "") -> Text:
    """Scanned or typed text as a Rich Text (never parsed as markup), with control characters visible."""
    return Text(visible(text or "", limit), style=style, no_wrap=False)
