"""Signing in and out of the dashboard; failed sign-ins are limited by `signin_limits` (growing waits per
account, a browser the account signed in from kept apart, an address trying many accounts held)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sync.hq import audit
from sync.core.i18n import LANGUAGES, _
from sync.hq.staff import check_password, end_session, set_language, start_session
from sync.hq.web.core import (
    BadRequest,
    DEVICE_COOKIE,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Posted,
    SignedIn,
    client_of,
    dashboard_of,
    render,
    safe_next,
    same_token,
)
from sync.hq.web.params import NO_CONTROLS
from sync.hq.web.signin_limits import DEVICE_DAYS

router = APIRouter(include_in_schema=False)
NextPage = Annotated[str, Query(max_length=2000, pattern=NO_CONTROLS)]
"""Where to go after signing in (`safe_next` keeps it on this server)."""


def _login_page(
    request: Request, next_url: str, error: str | None = None, status: int = 200, note: str | None = None,
    retry_after: int | None = None,
) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", status, next_url=safe_next(next_url), login_token=token, error=error, note=note)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    response.set_cookie(
        LOGIN_COOKIE, token, max_age=3600, httponly=True, samesite="strict",
        secure=dashboard_of(request).hq.settings.cookies_secure, path="/login",
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: NextPage = "/", expired: bool = False, signed_out: bool = False) -> Response:
    note = _("Your session expired; sign in again.") if expired else (_("Signed out.") if signed_out else None)
    return _login_page(request, next, note=note)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=200, pattern=NO_CONTROLS)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    login_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000, pattern=NO_CONTROLS)] = "/",
) -> Response:
    dashboard = dashboard_of(request)
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not cookie or not same_token(login_token, cookie):
        return _login_page(request, next, _("The sign-in form was out of date; please try again."), 403)
    client = client_of(request)
    keys = dashboard.sign_in.keys(username, client, request.cookies.get(DEVICE_COOKIE))
    if (wait := dashboard.sign_in.wait(keys)) is not None:
        audit.record(dashboard.db, username[:64] or "?", "sign-in refused",
                     {"why": f"too many failed sign-ins {wait.who}", "wait_seconds": wait.seconds}, client=client)
        message = _("Too many failed sign-ins {who}; try again in {wait}.").format(who=wait.who, wait=wait.phrase())
        return _login_page(request, next, message, 429, retry_after=wait.seconds)
    user = check_password(dashboard.db, username, password)
    if user is None:
        dashboard.sign_in.failed(keys)
        audit.record(dashboard.db, username[:64] or "?", "sign-in refused", {"why": "wrong name or password"}, client=client)
        return _login_page(request, next, _("Wrong user name or password (or the account is disabled)."), 401)
    token, _session = start_session(dashboard.db, user, dashboard.times)
    audit.record(dashboard.db, user.username, "sign-in", {"role": user.role.value}, client=client)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", secure=dashboard.hq.settings.cookies_secure, path="/"
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    response.set_cookie(
        DEVICE_COOKIE, dashboard.sign_in.device_cookie(user.username), max_age=DEVICE_DAYS * 86400, httponly=True,
        samesite="strict", secure=dashboard.hq.settings.cookies_secure, path="/login",
    )
    return response


@router.post("/account/language")
def choose_language(request: Request, session: SignedIn, form: Posted) -> Response:
    """The account's own language for the dashboard ('' follows the district's), then back to the page it was
    chosen on."""
    chosen = form.get("language") or None
    if chosen is not None and chosen not in LANGUAGES:
        raise BadRequest(f"there is no catalog for {chosen!r}: choose one of {', '.join(LANGUAGES)}")
    dashboard = dashboard_of(request)
    set_language(dashboard.db, session.user.username, chosen)
    audit.record(dashboard.db, session.user.username, "language", {"language": chosen or "district"},
                 client=client_of(request))
    return RedirectResponse(safe_next(form.get("next")), status_code=303)


@router.post("/logout")
def logout(request: Request, session: SignedIn, _form: Posted) -> Response:
    dashboard = dashboard_of(request)
    end_session(dashboard.db, request.cookies.get(SESSION_COOKIE, ""))
    audit.record(dashboard.db, session.user.username, "sign-out", {}, client=client_of(request))
    response = RedirectResponse("/login?signed_out=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
