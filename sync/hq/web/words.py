"""Words the dashboard shows from values (a gate's state, a verdict, an alert's kind), marked for the catalogs
here since the templates show them with `_(value)`; charts' descriptions too."""

from __future__ import annotations

from sync.core.i18n import N_

VALUES = (
    # gate states and the overview's filters
    N_("ok"), N_("stale"), N_("never"), N_("revoked"), N_("all"), N_("alerts"),
    # alert kinds
    N_("gap"), N_("edited"), N_("broken"), N_("rewritten"), N_("refused"), N_("two_gates"),
    # list uploads: states and changes
    N_("checking"), N_("ready"), N_("failed"), N_("applied"), N_("discarded"),
    N_("added"), N_("changed"), N_("removed"),
    # entries: verdicts, colours, directions
    N_("pass"), N_("hold"), N_("refuse"), N_("green"), N_("yellow"), N_("red"), N_("in"), N_("out"),
    # staff roles, pass filters and kinds
    N_("viewer"), N_("admin"), N_("current"), N_("expired"), N_("staff"), N_("vehicle"), N_("visitor"), N_("courier"),
)
"""Each value a page shows through `_()`."""
