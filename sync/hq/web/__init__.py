"""The staff dashboard, served by the HQ server itself: `mount(app, hq)` adds its routes, its static files and
the headers every page carries.

Pages are rendered on the server (Jinja2, autoescaped: names, reasons and notes come from gates and CSVs and
are hostile until escaped) and need no JavaScript; charts are inline SVG. Nothing is loaded from another
site, and the Content Security Policy says so to the browser.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync.hq.runtime import Hq
from sync.hq.web import admin, auth, pages, trace
from sync.hq.web.core import HERE, Dashboard, Forbidden, LoginNeeded, login_redirect, render

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

    for router in (auth.router, pages.router, trace.router, admin.router):
        app.include_router(router)
    return dashboard
