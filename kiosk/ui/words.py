"""Words on the kiosk's widgets that Textual reads once, when a class is made: key bindings' descriptions.

`BINDINGS` are written in English and marked with N_(); each screen words its own copy in the keeper's language
when it is made (`speak_bindings`), so the footer and the command palette speak it too.
"""

from __future__ import annotations

from dataclasses import replace

from textual.dom import DOMNode

from sync.core.i18n import _


def speak_bindings(node: DOMNode) -> None:
    """Word `node`'s key bindings (its own copy of the class's) in the language spoken now."""
    table = node._bindings.key_to_bindings
    for key, bindings in table.items():
        table[key] = [
            replace(b, description=_(b.description) if b.description else "", tooltip=_(b.tooltip) if b.tooltip else "")
            for b in bindings
        ]
