"""Every query, path and form value the dashboard takes, declared with its bounds, so that whatever a browser
(or anyone with a staff session) sends is either a value HQ can use or a 4xx page saying which one is not:
never a 500, and never a database error (PostgreSQL refuses text with a NUL, or a number where a column holds
text, with an error that used to surface as "database unavailable").

Free text is bounded and may hold no control characters (nobody types a NUL or an ESC into a form); names HQ
makes (gate ids, pass and upload ids) must have their form; page cursors are checked whole, value by value
against the columns they page, when they are decoded (`sync.hq.paging`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated

from fastapi import Path, Query

from sync.core.i18n import _

NO_CONTROLS = r"^[^\x00-\x1f\x7f]*$"
"""Text without control characters (C0 and DEL): what a person types into one line."""
_FORM_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters no form field holds (tab and line breaks are left to each field's own check)."""
GATE_ID = r"^[A-Za-z0-9._-]{1,64}$"
"""The form of a gate id (`sync.core.protocol.GateId`)."""

Cursor = Annotated[str | None, Query(description="a page link's position, judged whole by `paging.decode_cursor`")]
"""Left to `decode_cursor`, which checks its length, its form and every value in it, so that any damage to a
page link reads the same: 'this page link is damaged; go back to the first page'."""
Words = Annotated[str, Query(max_length=200, pattern=NO_CONTROLS, description="free text, such as a filter")]
GateChoice = Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9._-]*$", description="a gate id, or none")]
GateName = Annotated[str, Path(pattern=GATE_ID, description="a gate id")]
PassName = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,64}$", description="a pass id")]
UploadName = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="an upload id")]
IncidentName = Annotated[str, Path(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$", description="an incident id")]
SubjectName = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="a subject")]
TraceText = Annotated[str, Query(max_length=64, pattern=NO_CONTROLS)]
"""A tracing query's subject, gate, times and minutes: bounded here, judged by the tracing pages themselves."""


def form_problem(form: Mapping[str, object]) -> str | None:
    """Why a POSTed form cannot be used as it is (a control character in a field, which no one types and
    PostgreSQL cannot store), naming the field; None when it can."""
    for name, value in form.items():
        if isinstance(value, str) and _FORM_CONTROLS.search(value):
            return _("the form's {field!r} field holds a control character; type it again").format(field=name[:40])
    return None
