"""The staff dashboard, served by the HQ server itself: `mount(app, hq)` adds its routes, its static files and
the headers every page carries.

Pages are rendered on the server (Jinja2, autoescaped: names, reasons and notes come from gates and CSVs and
are hostile until escaped) and need no JavaScript; charts are inline SVG. Nothing is loaded from another
site, and the Content Security Policy says so to the browser.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync.hq.paging import CursorError
from sync.hq.runtime import Hq
from sync.hq.web import admin, auth, duty, pages, trace, trace_list
from sync.hq.web.core import HERE, BadRequest, Dashboard, Forbidden, LoginNeeded, login_redirect, render

SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; "
     b"frame-ancestors 'none'; base-uri 'none'; object-src 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]
NO_STORE = (b"cache-control", b"no-store")
"""Dashboard pages hold personal data: browsers and proxies must not keep them."""
ROUTERS = (auth.router, pages.router, duty.router, trace.router, trace_list.router, admin.router)
"""The dashboard's routes, all of them (a test walks them with hostile values)."""
OTHER_PATHS = ("/v1/", "/healthz", "/docs", "/redoc", "/openapi.json")
"""Not the dashboard's: the gate API keeps its lean answers, and FastAPI's API docs their own scripts."""


class DashboardHeaders:
    """Adds the security headers (and no-store, except on static files) to every dashboard response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if scope["type"] != "http" or path.startswith(OTHER_PATHS):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [h for h in SECURITY_HEADERS if h[0] not in names]
                if not path.startswith("/static/"):
                    headers.append(NO_STORE)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def mount(app: FastAPI, hq: Hq) -> Dashboard:
    dashboard = Dashboard(hq)
    app.state.dashboard = dashboard
    app.add_middleware(DashboardHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(LoginNeeded)
    async def needs_login(request: Request, exc: LoginNeeded) -> Response:
        return login_redirect(request, exc.expired)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return render(request, "error.html", 403, title="Not allowed", message=str(exc))

    @app.exception_handler(CursorError)
    async def damaged_link(request: Request, exc: CursorError) -> Response:
        return render(request, "error.html", 400, title="Damaged page link", message=str(exc))

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, exc: BadRequest) -> Response:
        return render(request, "error.html", 400, title="Cannot use this form", message=str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        """On the dashboard an HTTP error is a page (an address no route has, a method it does not take, a form
        the multipart parser refuses); the gate API keeps FastAPI's JSON."""
        if request.url.path.startswith(OTHER_PATHS):
            return await http_exception_handler(request, exc)
        words = {404: "HQ has no page at this address.", 405: "This page cannot be used that way."}
        message = words.get(exc.status_code, f"HQ cannot use this request: {exc.detail}")
        return render(request, "error.html", exc.status_code, title="Cannot show this page", message=message)

    @app.exception_handler(RequestValidationError)
    async def invalid_value(request: Request, exc: RequestValidationError) -> Response:
        """A value outside its declared bounds (`params`): the gate API keeps FastAPI's JSON answer, a page
        says which value of the link or form it was (never echoing it: it may be hostile)."""
        if request.url.path.startswith(OTHER_PATHS):
            return await request_validation_exception_handler(request, exc)
        error = exc.errors()[0]
        where = {"query": "link's", "path": "address's", "body": "form's"}.get(str(error["loc"][0]), "request's")
        name = str(error["loc"][-1])[:40]
        message = (f"The {where} {name!r} value is not one HQ can use ({error['msg']}); go back and use the "
                   "links and forms on HQ's own pages.")
        return render(request, "error.html", 422, title="Cannot show this page", message=message)

    for router in ROUTERS:
        app.include_router(router)
    return dashboard
