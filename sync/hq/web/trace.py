"""Contact tracing pages: a person's passages, a gate's passages, a person's contacts; each as pages and as a
CSV download, each recorded in the audit log with the staff account.

Tracing reads where the overview does (a replica, when HQ has one: each result says how far behind it is); the
audit log it writes goes to the primary.

An ID number arrives only in a POSTed form (never in a URL, a log line or the browser's history), is hashed
with the district key at once, and the browser is sent on to the result by subject: the links that page,
export and share a result carry the subject, which is what HQ holds anyway.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from sync.core.identity import RESIDENT_ID, document_problem
from sync.core.identity import subject_hash
from sync.core.i18n import N_, _
from sync.core.wording import say
from sync.hq import tracing
from sync.hq.overview import gate_names
from sync.hq.paging import Page
from sync.hq.tracing import ContactPlan, Passage, TracingError, Window
from sync.hq.web import csvout
from sync.hq.web.core import Dashboard, Posted, SignedIn, dashboard_of, record, render, replica_note
from sync.hq.web.params import NO_CONTROLS, Cursor, TraceText

router = APIRouter(prefix="/trace", include_in_schema=False)
DEFAULT_DAYS = 14
DEFAULT_MINUTES = 15
_SUBJECT = re.compile(r"^[0-9a-f]{32}$")
_GATE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
PASSAGE_COLUMNS = (
    N_("time"), N_("time_utc"), N_("gate"), N_("direction"), N_("verdict"), N_("colour"), N_("reasons"),
    N_("name"), N_("subject"), N_("temperature"), N_("keeper"), N_("code_type"), N_("entry_id"),
)
"""A passage's CSV columns, headed in the reader's language (in English, the names they always had): the local
time as ISO 8601 with the district's offset, the reasons worded in the reader's language."""


def passage_header(*more: str) -> list[str]:
    return [_(column) for column in (*PASSAGE_COLUMNS, *more)]


def _defaults(dashboard: Dashboard) -> dict[str, str]:
    now = dashboard.clock.now().replace(second=0, microsecond=0)
    return {
        "from": dashboard.clock.field(now - timedelta(days=DEFAULT_DAYS)),
        "to": dashboard.clock.field(now + timedelta(minutes=1)),
        "minutes": str(DEFAULT_MINUTES),
        "doc_type": RESIDENT_ID,
        "gate": "",
    }


def _form_page(request: Request, error: str | None = None, status: int = 200, **values: str) -> Response:
    dashboard = dashboard_of(request)
    with dashboard.reads.read() as conn:
        names = gate_names(conn)
    return render(
        request, "trace.html", status, error=error, values=_defaults(dashboard) | values, gates=names,
        key_missing=dashboard.district_key is None,
    )


@router.get("", response_class=HTMLResponse)
def trace_form(request: Request, session: SignedIn) -> Response:
    return _form_page(request)


def _window(dashboard: Dashboard, start: str, end: str) -> Window:
    try:
        return Window(dashboard.clock.parse(start, "from"), dashboard.clock.parse(end, "to"))
    except ValueError as exc:
        raise TracingError(str(exc)) from exc


def _subject_of(dashboard: Dashboard, form: dict[str, Any]) -> str:
    if dashboard.district_key is None:
        raise TracingError(
            "HQ was started without the district key (--district-key), so it cannot hash ID numbers; "
            "ask the administrator to restart it with the key"
        )
    id_number = str(form.get("id_number", "")).strip()
    doc_type = str(form.get("doc_type", "") or RESIDENT_ID).strip()[:40]
    if not id_number:
        raise TracingError("type the person's ID number")
    if problem := document_problem(id_number, doc_type):
        raise TracingError(problem)
    return subject_hash(dashboard.district_key, id_number, doc_type)


def _check_subject(subject: str) -> None:
    if not _SUBJECT.match(subject):
        raise TracingError("that link does not name a person (a subject is 32 hexadecimal characters)")


def _redirect(path: str, **params: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode(params)}", status_code=303)


@router.post("/person")
def person_by_id(request: Request, session: SignedIn, form: Posted) -> Response:
    dashboard = dashboard_of(request)
    kept = {k: str(form.get(k, "")) for k in ("from", "to", "doc_type")}
    try:
        subject = _subject_of(dashboard, form)
        _window(dashboard, kept["from"], kept["to"])
    except TracingError as exc:
        return _form_page(request, str(exc), 422, **kept)
    return _redirect("/trace/person", subject=subject, **{"from": kept["from"], "to": kept["to"]})


@router.post("/contacts")
def contacts_by_id(request: Request, session: SignedIn, form: Posted) -> Response:
    dashboard = dashboard_of(request)
    kept = {k: str(form.get(k, "")) for k in ("from", "to", "doc_type", "minutes")}
    try:
        subject = _subject_of(dashboard, form)
        _window(dashboard, kept["from"], kept["to"])
        _minutes(kept["minutes"])
    except TracingError as exc:
        return _form_page(request, str(exc), 422, **kept)
    return _redirect(
        "/trace/contacts", subject=subject, minutes=kept["minutes"], **{"from": kept["from"], "to": kept["to"]}
    )


def _minutes(text: str) -> int:
    try:
        minutes = int(text)
    except ValueError as exc:
        raise TracingError(_("minutes must be a whole number")) from exc
    if not 1 <= minutes <= tracing.MAX_CONTACT_MINUTES:
        raise TracingError(_("minutes must be between 1 and {most}").format(most=tracing.MAX_CONTACT_MINUTES))
    return minutes


def _passage_row(dashboard: Dashboard, p: Passage) -> list[object]:
    clock = dashboard.clock
    reasons = _("; ").join(say(reason, clock.zone) for reason in p.reasons)
    local = clock.local(datetime.fromisoformat(p.ts)).isoformat(timespec="seconds")
    return [
        local, p.ts, p.gate, _(p.direction), _(p.verdict), _(p.colour) if p.colour else p.colour, reasons, p.name,
        p.subject, p.temperature, p.operator, p.code_type, p.id,
    ]


def _csv(
    request: Request, session: Any, action: str, detail: dict[str, Any], filename: str, header: list[str],
    rows: Iterator[list[object]],
) -> StreamingResponse:
    """Stream a CSV and record the export (with the rows actually sent) when the stream ends."""
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent

        def counted() -> Iterator[list[object]]:
            nonlocal sent
            for row in rows:
                sent += 1
                yield row

        complete = False
        try:
            yield from csvout.lines(header, counted())
            complete = True
        finally:
            record(request, session, action, detail | {"complete": complete}, results=sent)

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _result_page(
    request: Request, *, title: str, summary: str, page: Page[Any], total: int, people: int | None,
    csv_url: str, query: dict[str, str], contacts: bool = False, plan: ContactPlan | None = None,
) -> Response:
    link = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return render(
        request, "trace_result.html", trace_link=link, title=title, summary=summary, page=page, total=total, people=people,
        csv_url=csv_url, query=query, params={k: v for k, v in query.items() if v}, contacts=contacts, plan=plan,
        replica_note=replica_note(dashboard_of(request)),
    )


def _error(request: Request, exc: Exception) -> Response:
    return _form_page(request, str(exc), 422)


def _query_params(
    subject: TraceText = "",
    gate: TraceText = "",
    start: Annotated[str, Query(alias="from", max_length=64, pattern=NO_CONTROLS)] = "",
    end: Annotated[str, Query(alias="to", max_length=64, pattern=NO_CONTROLS)] = "",
    minutes: TraceText = "",
) -> dict[str, str]:
    """A tracing result's question, from its link (`from` and `to` cannot be Python parameters' names)."""
    return {"subject": subject, "gate": gate, "from": start, "to": end, "minutes": minutes}


TraceQuery = Annotated[dict[str, str], Depends(_query_params)]


def _person_result(request: Request, params: dict[str, str]) -> tuple[dict[str, str], tracing.Result, Window]:
    dashboard = dashboard_of(request)
    _check_subject(params["subject"])
    window = _window(dashboard, params["from"], params["to"])
    return params, tracing.person(params["subject"], window), window


def _gate_result(request: Request, params: dict[str, str]) -> tuple[dict[str, str], tracing.Result, Window]:
    dashboard = dashboard_of(request)
    if not _GATE.match(params["gate"]):
        raise TracingError("choose a gate")
    window = _window(dashboard, params["from"], params["to"])
    with dashboard.reads.read() as conn:
        if params["gate"] not in gate_names(conn):
            raise TracingError(_("no gate {gate} is enrolled").format(gate=params["gate"]))
    return params, tracing.gate(params["gate"], window), window


def _contacts_result(
    request: Request, params: dict[str, str]
) -> tuple[dict[str, str], tracing.Result, Window, ContactPlan]:
    dashboard = dashboard_of(request)
    _check_subject(params["subject"])
    window = _window(dashboard, params["from"], params["to"])
    minutes = _minutes(params["minutes"])
    with dashboard.reads.read() as conn:
        plan = tracing.plan_contacts(conn, params["subject"], window, minutes)
    return params, tracing.contacts(plan), window, plan


def _detail(params: dict[str, str], keys: tuple[str, ...], window: Window, cursor: str | None) -> dict[str, Any]:
    start, end = window.bounds
    return {k: params[k] for k in keys} | {"from": start, "to": end, "page": cursor or "first"}


def _span(dashboard: Dashboard, window: Window) -> str:
    clock = dashboard.clock
    return _("from {start} to {end} ({zone})").format(
        start=clock.show(window.bounds[0], False), end=clock.show(window.bounds[1], False), zone=clock.name
    )


@router.get("/person", response_class=HTMLResponse)
def person(
    request: Request, session: SignedIn, query: TraceQuery, after: Cursor = None, before: Cursor = None
) -> Response:
    dashboard = dashboard_of(request)
    try:
        params, result, window = _person_result(request, query)
        with dashboard.reads.read() as conn:
            total = result.count(conn)
            page = result.page(conn, after=after, before=before)
    except ValueError as exc:
        return _error(request, exc)
    record(request, session, "trace person", _detail(params, ("subject",), window, after or before), total)
    return _result_page(
        request,
        title=_("Where was this person?"),
        summary=_("Passages of person {person} {span}").format(person=params["subject"], span=_span(dashboard, window)),
        page=page, total=total, people=None, csv_url="/trace/person.csv", query=params,
    )


@router.get("/person.csv")
def person_csv(request: Request, session: SignedIn, query: TraceQuery) -> Response:
    dashboard = dashboard_of(request)
    try:
        params, result, window = _person_result(request, query)
    except ValueError as exc:
        return _error(request, exc)
    rows = (_passage_row(dashboard, p) for p in result.each_row(dashboard.reads))
    return _csv(
        request, session, "export person csv", _detail(params, ("subject",), window, None),
        f"person-{params['subject'][:8]}.csv", passage_header(), rows,
    )


@router.get("/gate", response_class=HTMLResponse)
def gate(
    request: Request, session: SignedIn, query: TraceQuery, after: Cursor = None, before: Cursor = None
) -> Response:
    dashboard = dashboard_of(request)
    try:
        params, result, window = _gate_result(request, query)
        with dashboard.reads.read() as conn:
            total, people = result.summary(conn)
            page = result.page(conn, after=after, before=before)
    except ValueError as exc:
        return _error(request, exc)
    record(request, session, "trace gate", _detail(params, ("gate",), window, after or before), total)
    return _result_page(
        request,
        title=_("Who passed this gate?"),
        summary=_("Passages at gate {gate} {span}").format(gate=params["gate"], span=_span(dashboard, window)),
        page=page, total=total, people=people, csv_url="/trace/gate.csv", query=params,
    )


@router.get("/gate.csv")
def gate_csv(request: Request, session: SignedIn, query: TraceQuery) -> Response:
    dashboard = dashboard_of(request)
    try:
        params, result, window = _gate_result(request, query)
    except ValueError as exc:
        return _error(request, exc)
    rows = (_passage_row(dashboard, p) for p in result.each_row(dashboard.reads))
    return _csv(
        request, session, "export gate csv", _detail(params, ("gate",), window, None),
        f"gate-{params['gate']}.csv", passage_header(), rows,
    )


@router.get("/contacts", response_class=HTMLResponse)
def contacts(
    request: Request, session: SignedIn, query: TraceQuery, after: Cursor = None, before: Cursor = None
) -> Response:
    dashboard = dashboard_of(request)
    try:
        params, result, window, plan = _contacts_result(request, query)
        with dashboard.reads.read() as conn:
            total, people = result.summary(conn)
            page = result.page(conn, after=after, before=before)
    except ValueError as exc:
        return _error(request, exc)
    record(request, session, "trace contacts", _detail(params, ("subject", "minutes"), window, after or before), total)
    near = [(p, *plan.nearest(p)) for p in page.items]
    return _result_page(
        request,
        title=_("Who was near this person?"),
        summary=_(
            "People who passed the same gates within {minutes} minutes of person {person}, around {count} of their "
            "passages {span}"
        ).format(minutes=plan.minutes, person=params["subject"], count=len(plan.passages), span=_span(dashboard, window)),
        page=Page(near, page.next_cursor, page.prev_cursor), total=total, people=people,
        csv_url="/trace/contacts.csv", query=params, contacts=True, plan=plan,
    )


@router.get("/contacts.csv")
def contacts_csv(request: Request, session: SignedIn, query: TraceQuery) -> Response:
    dashboard = dashboard_of(request)
    try:
        params, result, window, plan = _contacts_result(request, query)
    except ValueError as exc:
        return _error(request, exc)

    def rows() -> Iterator[list[object]]:
        for p in result.each_row(dashboard.reads):
            near, apart = plan.nearest(p)
            yield [
                *_passage_row(dashboard, p),
                dashboard.clock.show(near.ts) if near else "",
                round(apart, 1) if apart is not None else "",
            ]

    return _csv(
        request, session, "export contacts csv", _detail(params, ("subject", "minutes"), window, None),
        f"contacts-{params['subject'][:8]}.csv", passage_header(N_("near_their_passage_at"), N_("minutes_apart")),
        rows(),
    )
