"""What every dashboard page shares: the Dashboard (templates, clock, district key, where heavy reads go, sign-in
limits: see `signin_limits`), rendering, and the dependencies that admit staff: `signed_in`, `admin`, and
their CSRF-checked variants for forms.

CSRF: every session has its own random token, put in every form as a hidden field and compared (in constant
time) on every POST; the sign-in form, which has no session yet, uses the double-submit pattern with a
short-lived cookie. Cookies are HttpOnly and SameSite=Lax besides.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sync.core.clock import age_text, utc_text
from sync.core.i18n import LANGUAGE_NAMES, _, ngettext, speak_here, speaking
from sync.core.refusals import kind_label
from sync.core.wording import say
from sync.hq import audit
from sync.hq.language import DOMAINS, reader_language
from sync.hq.replica import Lag
from sync.hq.runtime import Hq
from sync.hq.staff import Session, SessionEnded, session_for
from sync.hq.web.clock import DistrictClock
from sync.hq.web.params import form_problem
from sync.hq.web.signin_limits import SignInLimits

HERE = Path(__file__).parent
SESSION_COOKIE = "pocket_hq_session"
LOGIN_COOKIE = "pocket_hq_login"
DEVICE_COOKIE = "pocket_hq_device"
"""Marks a browser its account signed in from (`signin_limits`); sent to /login only."""
CSRF_FIELD = "csrf_token"


class LoginNeeded(Exception):
    """No live session: the browser is sent to the sign-in page (and back here afterwards)."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("sign in first")
        self.expired = expired


class Forbidden(Exception):
    """Signed in, but this page is for admins (or the form's CSRF token is wrong); the message says which."""


class BadRequest(Exception):
    """A request HQ cannot act on as it is (a control character in a form field); the message says which
    value, for a 400 page."""


class Dashboard:
    """The staff dashboard's share of a running HQ, on `app.state.dashboard`."""

    def __init__(self, hq: Hq) -> None:
        settings = hq.settings
        self.hq = hq
        self.db = hq.db
        self.reads = hq.reads
        """Where tracing and the overview read (a replica when HQ has one); everything else reads `db`."""
        self.clock = DistrictClock(settings.timezone)
        self.times = hq.session_times
        self.stale_after = timedelta(minutes=settings.stale_after_minutes)
        self.district_key = hq.secrets.district_key if hq.secrets is not None else None
        env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=["jinja2.ext.i18n"],
        )
        # The words of the language being spoken in the request rendering the page (`render` speaks the
        # reader's), and reasons worded from their codes in it, at the district's time.
        env.install_gettext_callables(gettext=_, ngettext=ngettext, newstyle=True)  # type: ignore[attr-defined]
        env.filters["said"] = lambda reason: say(reason, self.clock.zone)
        env.filters["kind"] = kind_label
        env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
        self.language = settings.language
        self.templates = Jinja2Templates(env=env)
        self.sign_in = SignInLimits(
            account=settings.login_account_limit,
            device=settings.login_device_limit,
            address=settings.login_address_limit,
            device_key=_device_key(hq.signing_key),
            clock=hq.clock,
            limiter=hq.limits,
        )

    def replica_lag(self) -> Lag | None:
        """How far behind the primary the replica that tracing and the overview read is (None: HQ has none)."""
        return self.reads.lag()


def _device_key(signing_key: ed25519.Ed25519PrivateKey) -> bytes:
    """The key that signs sign-in device cookies, derived from HQ's signing key: every HQ process of a city has
    it, it survives a restart, and it is no use for anything else (HKDF with its own label)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"pocket-hq sign-in device cookies")
    return hkdf.derive(signing_key.private_bytes_raw())


def dashboard_of(request: Request) -> Dashboard:
    dashboard: Dashboard = request.app.state.dashboard
    return dashboard


def client_of(request: Request) -> str:
    return request.client.host if request.client else ""


def reader_language_of(request: Request) -> str:
    """The language of the page this request gets: the signed-in account's own, else the district's."""
    session: Session | None = getattr(request.state, "session", None)
    return reader_language(session.user.language if session else None, dashboard_of(request).language)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page in the reader's language (the template is rendered here, inside it)."""
    dashboard = dashboard_of(request)
    language = reader_language_of(request)
    values = {
        "session": getattr(request.state, "session", None),
        "clock": dashboard.clock,
        "csrf_field": CSRF_FIELD,
        "language": language,
        "replica_note": None,
        **context,
    }
    with speaking(language, DOMAINS):
        return dashboard.templates.TemplateResponse(request, template, values, status_code=status_code)


def replica_note(dashboard: Dashboard) -> str | None:
    """What a page read from the replica says about it: how far behind the primary it is (None: no replica)."""
    lag = dashboard.replica_lag()
    if lag is None:
        return None
    if not lag.reachable:
        return _("The read replica cannot be reached: this page was read from the primary database.")
    if not lag.standby:
        return _("Read from the database named by --read-db, which is not a standby of the primary.")
    if lag.behind_bytes == 0:
        return _("Read from the replica, which is up to date with the primary.")
    behind = age_text(timedelta(seconds=lag.seconds))
    size = _size(lag.behind_bytes)
    if lag.as_of:
        return _("Read from the replica, {behind} behind the primary: it shows the database as of {time} ({size} of "
                 "changes still to apply).").format(behind=behind, time=dashboard.clock.show(utc_text(lag.as_of)),
                                                    size=size)
    return _("Read from the replica, {behind} behind the primary: it shows the database ({size} of changes still "
             "to apply).").format(behind=behind, size=size)


def _size(n: int) -> str:
    return ngettext("{n} byte", "{n} bytes", n).format(n=n) if n < 1024 else f"{n / 1024:.0f} kB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def record(request: Request, session: Session, action: str, detail: dict[str, Any], results: int | None = None) -> None:
    """Write an audit row for what this request did."""
    audit.record(dashboard_of(request).db, session.user.username, action, detail, results=results, client=client_of(request))


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this server only (never '//elsewhere' or 'https://...')."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def login_redirect(request: Request, expired: bool) -> RedirectResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = f"/login?next={quote(here if request.method == 'GET' else '/', safe='')}"
    response = RedirectResponse(target + ("&expired=1" if expired else ""), status_code=303)
    if expired:
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def signed_in(request: Request) -> Session:
    """The staff member's live session, or off to the sign-in page."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginNeeded()
    dashboard = dashboard_of(request)
    try:
        session = session_for(dashboard.db, token, dashboard.times)
    except SessionEnded as exc:
        raise LoginNeeded(expired=str(exc) == "session expired") from exc
    request.state.session = session
    return session


async def reader(request: Request, session: Annotated[Session, Depends(signed_in)]) -> Session:
    """The signed-in staff member, and from here on the request speaks their language: in everything the page
    is built from (chart titles, summaries, errors), not only its template. Async, so the language is set in the
    request's own context, which the handler's thread then copies."""
    speak_here(reader_language(session.user.language, dashboard_of(request).language), DOMAINS)
    return session


def admin(session: Annotated[Session, Depends(reader)]) -> Session:
    if not session.user.is_admin:
        raise Forbidden(f"this page is for admins; {session.user.username} is a {session.user.role.value}")
    return session


def same_token(submitted: str, expected: str) -> bool:
    """Constant-time comparison of a submitted token with ours, as bytes: `compare_digest` refuses text with
    non-ASCII characters, which anyone can submit."""
    return secrets.compare_digest(submitted.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


def check_csrf(session: Session, submitted: object) -> None:
    if not isinstance(submitted, str) or not same_token(submitted, session.csrf_token):
        raise Forbidden("this form is out of date or did not come from HQ's own page; reload the page and try again")


async def form_of(request: Request, session: Session) -> dict[str, Any]:
    """The POSTed form (small fields only), after its CSRF token was checked; BadRequest when a field holds a
    control character (see `params.form_problem`)."""
    form = await request.form(max_files=0, max_fields=50)
    check_csrf(session, form.get(CSRF_FIELD))
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    if problem := form_problem(fields):
        raise BadRequest(problem)
    return fields


SignedIn = Annotated[Session, Depends(reader)]
Admin = Annotated[Session, Depends(admin)]


async def _posted(request: Request, session: SignedIn) -> dict[str, Any]:
    return await form_of(request, session)


async def _admin_posted(request: Request, session: Admin) -> dict[str, Any]:
    return await form_of(request, session)


Posted = Annotated[dict[str, Any], Depends(_posted)]
"""A signed-in staff member's form, CSRF-checked."""
AdminPosted = Annotated[dict[str, Any], Depends(_admin_posted)]
"""An admin's form, CSRF-checked."""
