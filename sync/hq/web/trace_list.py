"""From a tracing result to the red/yellow list: the people an admin ticks on a result are previewed (who is added,
changed or left as they are), then put on the list with a reason and an expiry (`sync.hq.traced_list`), recorded in
the audit log with the staff account and the trace they came from, and reach gates at their next sync. The lists
page shows these entries, where they came from and when they lapse, and takes one off early. Viewers get 403.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sync.core.clock import utc_text
from sync.core.i18n import _
from sync.hq import traced_list
from sync.hq.lists import ListError
from sync.hq.web.core import CSRF_FIELD, Admin, AdminPosted, BadRequest, check_csrf, dashboard_of, record, render
from sync.hq.web.params import SubjectName, form_problem

router = APIRouter(include_in_schema=False)
FIELDS = ("colour", "reason", "days", "trace")
DEFAULT_DAYS = "14"


async def _selection(request: Request, session: Admin) -> tuple[list[str], dict[str, str]]:
    """The ticked people (a repeated `subject` field) and the other fields, after the CSRF check."""
    form = await request.form(max_files=0, max_fields=traced_list.MAX_PEOPLE + 20)
    check_csrf(session, form.get(CSRF_FIELD))
    fields = {key: str(form.get(key) or "") for key in FIELDS}
    subjects = [value for value in form.getlist("subject") if isinstance(value, str)]
    if problem := form_problem(fields | {"subject": "".join(subjects)}):
        raise BadRequest(problem)
    return subjects, fields


Selection = Annotated[tuple[list[str], dict[str, str]], Depends(_selection)]


def _checked(request: Request, selection: tuple[list[str], dict[str, str]]) -> traced_list.Request:
    subjects, fields = selection
    return traced_list.checked_request(
        subjects, fields["colour"], fields["reason"], fields["days"] or DEFAULT_DAYS, fields["trace"],
        dashboard_of(request).clock.now(),
    )


def _back(request: Request, error: str, fields: dict[str, str]) -> Response:
    return render(request, "trace_list.html", 422, error=error, proposals=[], values=fields, subjects=[], until=None)


@router.post("/trace/list", response_class=HTMLResponse)
def preview(request: Request, session: Admin, selection: Selection) -> Response:
    """What putting the ticked people on the list would change; nothing is changed yet."""
    dashboard = dashboard_of(request)
    try:
        asked = _checked(request, selection)
    except ListError as exc:
        return _back(request, str(exc), selection[1])
    with dashboard.db.read() as conn:
        proposals = traced_list.preview(conn, asked, dashboard.clock.now())
    values = selection[1] | {"reason": asked.reason}
    return render(request, "trace_list.html", proposals=proposals, values=values, subjects=asked.subjects,
                  until=utc_text(asked.until), error=None)


@router.post("/trace/list/apply")
def apply(request: Request, session: Admin, selection: Selection) -> Response:
    dashboard = dashboard_of(request)
    now = dashboard.clock.now()
    try:
        asked = _checked(request, selection)
        people, version = traced_list.put_on_list(dashboard.db, asked, session.user.username, now)
    except ListError as exc:
        return _back(request, str(exc), selection[1])
    detail: dict[str, Any] = {
        "trace": asked.trace, "colour": asked.colour, "reason": asked.reason, "until": utc_text(asked.until),
        "subjects": list(asked.subjects), "bundle_version": version,
    }
    record(request, session, "list from trace", detail, results=people)
    return RedirectResponse(f"/admin/lists?traced={people}", status_code=303)


@router.post("/admin/lists/traced/{subject}/remove")
def remove(request: Request, subject: SubjectName, session: Admin, form: AdminPosted) -> Response:
    try:
        version = traced_list.remove(dashboard_of(request).db, subject)
    except ListError as exc:
        return render(request, "error.html", 404, title=_("No such entry"), message=str(exc))
    record(request, session, "remove traced entry", {"subject": subject, "bundle_version": version})
    return RedirectResponse("/admin/lists", status_code=303)
