"""Admin pages: enrol and revoke gates, issue and revoke passes, upload rosters and red/yellow lists (checked,
previewed, then applied), and the audit log. Every change goes through the same functions as `pocket-hq`'s
commands and is recorded in the audit log. Viewers get 403 on all of these.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from starlette.datastructures import UploadFile

from sync.core.identity import RESIDENT_ID
from sync.core.clock import utc_text
from sync.core.bundle import fingerprint
from sync.core.i18n import _
from sync.core.tls import CertificateError
from sync.hq import audit, gates, lists, traced_list, uploads
from sync.hq.tables import colour_list, passes
from sync.hq.tls import fingerprint_of
from sync.hq.overview import GateFilter, gate_names, gate_page
from sync.hq.paging import Page, keyset_page
from sync.hq.web.core import (
    CSRF_FIELD,
    Admin,
    AdminPosted,
    Dashboard,
    check_csrf,
    dashboard_of,
    record,
    render,
)
from sync.hq.web.params import Cursor, GateName, PassName, UploadName, Words, form_problem

router = APIRouter(prefix="/admin", include_in_schema=False)
PassFilter = Literal["current", "expired", "all"]


def _see(path: str, **params: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode(params)}" if params else path, status_code=303)


# -- gates ---------------------------------------------------------------------------------------------------


def _gates_page(
    request: Request, error: str | None = None, status: int = 200, *, after: str | None = None,
    before: str | None = None, done: str = "",
) -> Response:
    dashboard = dashboard_of(request)
    now = dashboard.clock.now()
    with dashboard.db.read() as conn:
        page = gate_page(conn, now - dashboard.stale_after, GateFilter.ALL, after=after, before=before)
    return render(request, "admin_gates.html", status, page=page, error=error, done=done)


@router.get("/gates", response_class=HTMLResponse)
def gates_list(
    request: Request, session: Admin, after: Cursor = None, before: Cursor = None, done: Words = ""
) -> Response:
    return _gates_page(request, after=after, before=before, done=done)


TokenFor = Literal["enrolled", "token", "rekeyed"]


def _token_page(request: Request, gate_id: str, token: str, made: TokenFor) -> Response:
    """The token, once, with what the gate pins (as `pocket-hq gates add` prints them): the signing key's
    fingerprint and, when HQ serves HTTPS itself, its certificate's; the enrol line reads the token from standard
    input, so it never stands on a command line."""
    dashboard = dashboard_of(request)
    cert_file = dashboard.hq.settings.tls_cert_file
    try:
        certificate = fingerprint_of(cert_file) if cert_file is not None else None
    except CertificateError:
        certificate = None
    response = render(
        request, "admin_token.html", gate_id=gate_id, token=token, made=made,
        fingerprint=fingerprint(dashboard.hq.signing_key), certificate=certificate,
        hq_url=str(request.base_url).rstrip("/"),
    )
    return response


@router.post("/gates")
def gates_add(request: Request, session: Admin, form: AdminPosted) -> Response:
    gate_id = str(form.get("gate_id", "")).strip()
    try:
        token = gates.add_gate(dashboard_of(request).db, gate_id)
    except gates.GateError as exc:
        return _gates_page(request, str(exc), 422)
    record(request, session, "enrol gate", {"gate": gate_id})
    return _token_page(request, gate_id, token, "enrolled")


@router.post("/gates/{gate_id}/token")
def gates_token(request: Request, gate_id: GateName, session: Admin, form: AdminPosted) -> Response:
    try:
        token = gates.replace_token(dashboard_of(request).db, gate_id)
    except gates.GateError as exc:
        return _gates_page(request, str(exc), 422)
    record(request, session, "new gate token", {"gate": gate_id})
    return _token_page(request, gate_id, token, "token")


@router.post("/gates/{gate_id}/rekey")
def gates_rekey(request: Request, gate_id: GateName, session: Admin, form: AdminPosted) -> Response:
    """After a gate laptop is lost: `pocket-hq gates rekey` (a new token and gate key; the old token refused)."""
    try:
        token, generation = gates.rekey_gate(dashboard_of(request).db, gate_id)
    except gates.GateError as exc:
        return _gates_page(request, str(exc), 422)
    record(request, session, "rekey gate", {"gate": gate_id, "key generation": str(generation)})
    return _token_page(request, gate_id, token, "rekeyed")


@router.post("/gates/{gate_id}/revoke")
def gates_revoke(request: Request, gate_id: GateName, session: Admin, form: AdminPosted) -> Response:
    try:
        gates.revoke_gate(dashboard_of(request).db, gate_id)
    except gates.GateError as exc:
        return _gates_page(request, str(exc), 422)
    record(request, session, "revoke gate", {"gate": gate_id})
    return _see("/admin/gates", done="revoked")


# -- passes --------------------------------------------------------------------------------------------------


def _pass_page(dashboard: Dashboard, show: str, after: str | None, before: str | None) -> Page[Any]:
    now = utc_text(dashboard.clock.now())
    query = select(passes)
    if show == "current":
        query = query.where(passes.c.valid_until > now)
    elif show == "expired":
        query = query.where(passes.c.valid_until <= now)
    with dashboard.db.read() as conn:
        return keyset_page(
            conn, query, [passes.c.valid_until, passes.c.id], lambda r: [r.valid_until, r.id], after=after, before=before
        )


def _passes_page(
    request: Request, error: str | None = None, status: int = 200, values: dict[str, str] | None = None, *,
    show: PassFilter = "current", after: str | None = None, before: str | None = None, done: str = "",
) -> Response:
    dashboard = dashboard_of(request)
    page = _pass_page(dashboard, show, after, before)
    with dashboard.db.read() as conn:
        names = gate_names(conn)
    defaults = {
        "kind": "staff", "gate": "", "hours": "24", "note": "", "doc_type": RESIDENT_ID,
        "from": dashboard.clock.field(dashboard.clock.now()),
    }
    return render(
        request, "admin_passes.html", status, page=page, show=show, gates=names, error=error,
        values=defaults | (values or {}), done=done,
        key_missing=dashboard.district_key is None, now=utc_text(dashboard.clock.now()),
    )


@router.get("/passes", response_class=HTMLResponse)
def passes_list(
    request: Request, session: Admin, show: PassFilter = "current", after: Cursor = None, before: Cursor = None,
    done: Words = "",
) -> Response:
    return _passes_page(request, show=show, after=after, before=before, done=done)


@router.post("/passes")
def passes_issue(request: Request, session: Admin, form: AdminPosted) -> Response:
    dashboard = dashboard_of(request)
    kept = {k: str(form.get(k, "")) for k in ("kind", "gate", "hours", "note", "doc_type", "from")}
    try:
        if dashboard.district_key is None:
            raise lists.ListError("HQ was started without the district key (--district-key): it cannot hash ID numbers")
        start = dashboard.clock.parse(kept["from"], "from")
        try:
            hours = float(kept["hours"])
        except ValueError as exc:
            raise lists.ListError("hours must be a number") from exc
        if not 0.01 <= hours <= 24 * 366:
            raise lists.ListError("a pass lasts between 0.01 and 8784 hours")
        issued = lists.issue_pass(
            dashboard.db,
            id_number=str(form.get("id_number", "")).strip(),
            district_key=dashboard.district_key,
            kind=kept["kind"].strip(),
            valid_from=start,
            valid_until=start + timedelta(hours=hours),
            gate_id=kept["gate"] or None,
            note=kept["note"].strip()[:500],
            doc_type=kept["doc_type"].strip() or RESIDENT_ID,
        )
    except (lists.ListError, ValueError) as exc:
        return _passes_page(request, str(exc), 422, kept)
    record(request, session, "issue pass", {"pass": issued.id, "subject": issued.subject, "kind": issued.kind,
                                            "gate": issued.gate, "until": issued.valid_until})
    return _see("/admin/passes", done=issued.id)


@router.post("/passes/{pass_id}/revoke")
def passes_revoke(request: Request, pass_id: PassName, session: Admin, form: AdminPosted) -> Response:
    try:
        lists.revoke_pass(dashboard_of(request).db, pass_id)
    except lists.ListError as exc:
        return _passes_page(request, str(exc), 422)
    record(request, session, "revoke pass", {"pass": pass_id})
    return _see("/admin/passes", done="revoked")


# -- lists ---------------------------------------------------------------------------------------------------


def _lists_page(
    request: Request, error: str | None = None, status: int = 200, *, after: str | None = None, before: str | None = None,
    traced_now: int | None = None,
) -> Response:
    dashboard = dashboard_of(request)
    with dashboard.db.read() as conn:
        names = gate_names(conn)
        colours = dict(conn.execute(select(colour_list.c.colour, func.count()).group_by(colour_list.c.colour)).all())
        traced = traced_list.listed(conn, dashboard.clock.now())
    recent = uploads.recent(dashboard.db, after=after, before=before)
    return render(
        request, "admin_lists.html", status, gates=names, colours=colours, recent=recent, error=error,
        key_missing=dashboard.district_key is None, max_mb=dashboard.hq.settings.max_upload_mb, traced=traced,
        traced_now=traced_now,
    )


@router.get("/lists", response_class=HTMLResponse)
def lists_page(
    request: Request, session: Admin, after: Cursor = None, before: Cursor = None, traced: int | None = None
) -> Response:
    return _lists_page(request, after=after, before=before, traced_now=traced)


async def _store_upload(dashboard: Dashboard, upload_id: str, file: UploadFile) -> None:
    """Keep the file in the database, a part at a time (any HQ process may then check it)."""
    part = 0
    while chunk := await file.read(uploads.PART_BYTES):
        await run_in_threadpool(uploads.store_part, dashboard.db, upload_id, part, chunk)
        part += 1


async def _queue_check(dashboard: Dashboard, upload_id: str) -> None:
    """Queue the stored file's check for whichever HQ process takes it first (this one is woken to look)."""
    await run_in_threadpool(uploads.queue_check, dashboard.db, upload_id)
    dashboard.hq.jobs.wake()


@router.post("/lists")
async def lists_upload(request: Request, session: Admin) -> Response:
    """Take a CSV, register it, keep it in the database and queue its check; the preview page shows progress."""
    dashboard = dashboard_of(request)
    limit = int(dashboard.hq.settings.max_upload_mb * 1024 * 1024)
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit():
        return _lists_page(request, "the upload did not say its size (Content-Length); use the form on this page", 411)
    if int(declared) > limit:
        return _lists_page(
            request, _("the file is larger than {mb:g} MB, the most HQ accepts").format(mb=dashboard.hq.settings.max_upload_mb), 413
        )
    form = await request.form(max_files=1, max_fields=10)
    check_csrf(session, form.get(CSRF_FIELD))
    file = form.get("file")
    named = {"kind": form.get("kind"), "gate": form.get("gate"), "file name": getattr(file, "filename", None)}
    if problem := form_problem(named):
        return _lists_page(request, problem, 400)
    kind = form.get("kind")
    gate = str(form.get("gate") or "") or None
    if not isinstance(file, UploadFile) or not file.filename:
        return _lists_page(request, "choose a CSV file to upload", 422)
    if kind not in ("roster", "colour"):
        return _lists_page(request, "choose what the file is: a gate's roster or the red/yellow list", 422)
    if dashboard.district_key is None:
        return _lists_page(request, "HQ was started without the district key (--district-key): it cannot hash ID numbers", 422)
    if kind == "roster" and not gate:
        return _lists_page(request, "choose the gate whose roster this is", 422)
    try:
        upload = uploads.create(dashboard.db, uploads.Kind(kind), file.filename, session.user.username,
                                gate if kind == "roster" else None)
    except lists.ListError as exc:
        return _lists_page(request, str(exc), 422)
    await _store_upload(dashboard, upload.id, file)
    await file.close()
    record(request, session, "upload list", {"upload": upload.id, "kind": kind, "file": file.filename}
           | ({"gate": upload.gate} if upload.gate else {}))
    await _queue_check(dashboard, upload.id)
    return _see(f"/admin/uploads/{upload.id}")


@router.get("/uploads/{upload_id}", response_class=HTMLResponse)
def upload_preview(
    request: Request, upload_id: UploadName, session: Admin, change: uploads.Change = uploads.Change.ADDED,
    after: Cursor = None, before: Cursor = None,
) -> Response:
    dashboard = dashboard_of(request)
    try:
        upload = uploads.get(dashboard.db, upload_id)
        shown = change
        page = (
            uploads.differences(dashboard.db, upload, shown, after=after, before=before)
            if upload.state is uploads.State.READY
            else None
        )
    except lists.ListError as exc:
        return render(request, "error.html", 404, title="No such upload", message=str(exc))
    return render(request, "admin_upload.html", upload=upload, page=page, change=shown.value,
                  changes=[c.value for c in uploads.Change], error=None)


@router.post("/uploads/{upload_id}/apply")
def upload_apply(request: Request, upload_id: UploadName, session: Admin, form: AdminPosted) -> Response:
    dashboard = dashboard_of(request)
    try:
        version = uploads.apply(dashboard.db, upload_id)
    except lists.ListError as exc:
        upload = uploads.get(dashboard.db, upload_id)
        return render(request, "admin_upload.html", 409, upload=upload, page=None, change="added",
                      changes=[c.value for c in uploads.Change], error=str(exc))
    record(request, session, "apply list", {"upload": upload_id, "bundle_version": version})
    return _see(f"/admin/uploads/{upload_id}")


@router.post("/uploads/{upload_id}/discard")
def upload_discard(request: Request, upload_id: UploadName, session: Admin, form: AdminPosted) -> Response:
    try:
        uploads.discard(dashboard_of(request).db, upload_id)
    except lists.ListError as exc:
        return render(request, "error.html", 404, title="No such upload", message=str(exc))
    record(request, session, "discard list", {"upload": upload_id})
    return _see("/admin/lists")


# -- audit ---------------------------------------------------------------------------------------------------


@router.get("/audit", response_class=HTMLResponse)
def audit_log(
    request: Request, session: Admin, user: Words = "", action: Words = "", after: Cursor = None, before: Cursor = None
) -> Response:
    page = audit.page(dashboard_of(request).db, username=user or None, action=action or None, after=after, before=before)
    return render(request, "admin_audit.html", page=page, user=user, action=action)
