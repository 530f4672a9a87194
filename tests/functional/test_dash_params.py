"""A hostile dashboard client: every route of the dashboard is walked (`sync.hq.web.ROUTERS`, the routers
the app mounts, so a new route is covered or this test fails), and every query, path and form value it takes is fed hostile values,
on SQLite and PostgreSQL. Whatever is sent, HQ answers with a page, a redirect or a 4xx page saying what was
wrong: never a 500, and never a database error passed off as "unavailable" (503).

Damaged page links (`after`, `before`) must say so in words wherever they are decoded.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from tests.dash_testkit import Event, Staff, make_user, person, record_and_ingest, tokens
from tests.sync_testkit import (  # noqa: F401 - fixtures
    RunningHq,
    hq_db_url,
    issuer_keys,
    signing_key_file,
    start_hq,
)

from sync.core.identity import load_district_key
from sync.hq import lists
from sync.hq.paging import encode_cursor
from sync.hq.staff import Role
from sync.hq.web import ROUTERS

TEXT = [
    "garbage", "", "-1", "9" * 40, "\x00", "a\x00b", "\x1b[2J\x07", "\u202eevil", "x" * 5000, "' OR 1=1 --",
    "<script>alert(1)</script>", "%00", "\ufffd\ufffd",
]
CURSORS = [
    "!!!", "A" * 3000, encode_cursor([10**30]), encode_cursor([-(2**70)]),
    encode_cursor(["a\x00", "b"]), encode_cursor(["\ud800", "x"]), encode_cursor([True]), encode_cursor([[1], {}]),
    encode_cursor(["2024-01-01", "x", "y"]), encode_cursor([None, None]), encode_cursor([1.5, 2]),
]
PLAUSIBLE_CURSORS = [encode_cursor(["x"]), encode_cursor([7]), encode_cursor(["2024-01-01", "x"])]
"""Well made, but for one route's key or another's: a page (perhaps empty) or a damaged link, as it fits."""
FORMS: dict[str, tuple[str, ...]] = {
    "/login": ("username", "password", "next"),
    "/logout": (),
    "/account/language": ("language", "next"),
    "/trace/person": ("id_number", "doc_type", "from", "to"),
    "/trace/contacts": ("id_number", "doc_type", "from", "to", "minutes"),
    "/admin/gates": ("gate_id",),
    "/admin/gates/{gate_id}/token": (),
    "/admin/gates/{gate_id}/revoke": (),
    "/admin/gates/{gate_id}/rekey": (),
    "/admin/passes": ("id_number", "kind", "gate", "hours", "note", "doc_type", "from"),
    "/admin/passes/{pass_id}/revoke": (),
    "/admin/lists": ("kind", "gate", "filename"),
    "/admin/uploads/{upload_id}/apply": (),
    "/admin/uploads/{upload_id}/discard": (),
    "/trace/list": ("subject", "colour", "reason", "days", "trace"),
    "/trace/list/apply": ("subject", "colour", "reason", "days", "trace"),
    "/admin/lists/traced/{subject}/remove": (),
    "/incidents/{incident_id}/close": ("note",),
}
"""Each form's fields (as its page's form has them); every POST route of the app must be listed here."""
UPLOAD_CSV = b"id_number,colour,note\n"


class City:
    """What the HQ holds for the walk, and good values for every parameter that is not the one under attack."""

    def __init__(self, running: RunningHq, key: bytes, folder: Path) -> None:
        now = datetime.now(UTC)
        _, subject = person(key, 1)
        record_and_ingest(running.db, folder, "north-gate", [Event(now - timedelta(hours=1), subject)])
        make_user(running.db, "ada", Role.ADMIN)
        issued = lists.issue_pass(
            running.db, id_number=person(key, 2)[0], district_key=key, kind="staff",
            valid_from=now, valid_until=now + timedelta(hours=1),
        )
        day = f"{now:%Y-%m-%d}"
        self.good = {
            "subject": subject, "gate": "north-gate", "from": f"{day}T00:00", "to": f"{day}T23:59", "minutes": "15",
            "gate_id": "north-gate", "pass_id": issued.id, "upload_id": secrets.token_hex(16),
            "incident_id": "01HZZZZZZZZZZZZZZZZZZZZZZZ",
        }


def _params(dependant: Dependant, kind: str) -> list[str]:
    """The names (as sent) of a route's query or path parameters, its dependencies' included."""
    own = [field.alias for field in getattr(dependant, f"{kind}_params")]
    return own + [name for sub in dependant.dependencies for name in _params(sub, kind)]


def _routes() -> list[APIRoute]:
    routes = [route for router in ROUTERS for route in router.routes]
    assert all(isinstance(route, APIRoute) for route in routes)
    return routes  # type: ignore[return-value]


def _url(route: APIRoute, good: dict[str, str], **hostile: str) -> str:
    values = good | hostile
    path = route.path
    for name in _params(route.dependant, "path"):
        path = path.replace("{" + name + "}", quote(values[name], safe=""))
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def walked(
    request: pytest.FixtureRequest, tmp_path: Path, signing_key_file: Path, issuer_keys: Path
) -> Iterator[tuple[RunningHq, City, Staff]]:
    from tests.sync_testkit import _postgres_database

    urls: Iterator[str] = iter([str(tmp_path / "hq.db")]) if request.param == "sqlite" else _postgres_database()
    url = next(urls)
    try:
        for running in start_hq(
            url, signing_key_file, district_key_file=issuer_keys / "district.key", timezone="UTC",
            login_account_limit="100000/minute", login_address_limit="100000/minute",
        ):
            city = City(running, load_district_key(issuer_keys / "district.key"), tmp_path / "gates")
            staff = Staff(running.url, "ada")
            yield running, city, staff
            staff.close()
    finally:
        for _ in urls:
            pass


def _answered(answer: httpx.Response, what: str) -> None:
    assert answer.status_code < 500, f"{what}: {answer.status_code} {answer.text[:300]}"
    if answer.status_code >= 400:
        assert answer.headers["content-type"].startswith("text/html"), f"{what}: {answer.headers['content-type']}"
        assert 'role="alert"' in answer.text, f"{what}: a refusal must say why on the page"


def test_every_query_and_path_value_is_answered_without_a_server_error(
    walked: tuple[RunningHq, City, Staff],
) -> None:
    running, city, staff = walked
    routes = [route for route in _routes() if "GET" in route.methods]
    assert len(routes) >= 15
    for route in routes:
        queries = _params(route.dependant, "query")
        base = {name: city.good[name] for name in queries if name in city.good}
        for name in queries:
            cursor = name in ("after", "before")
            for value in TEXT + (CURSORS + PLAUSIBLE_CURSORS if cursor else []):
                answer = staff.client.get(_url(route, city.good), params=base | {name: value})
                _answered(answer, f"GET {route.path} {name}={value[:30]!r}")
                damaged = cursor and value not in PLAUSIBLE_CURSORS
                if damaged and route.path != "/admin/uploads/{upload_id}":  # an unknown upload is a 404 first
                    assert "page link is damaged" in answer.text, f"GET {route.path} {name}={value[:30]!r}"
        for name in _params(route.dependant, "path"):
            for value in TEXT:
                if value:
                    answer = staff.client.get(_url(route, city.good, **{name: value}), params=base)
                    _answered(answer, f"GET {route.path} with {name}={value[:30]!r}")


def _multipart(fields: dict[str, str], filename: str) -> tuple[bytes, str]:
    """A list upload's body written out by hand, so a file name reaches HQ exactly as given (httpx escapes it)."""
    boundary = secrets.token_hex(16)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value.encode() + b"\r\n"
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode() + filename.encode()
        + b'"\r\nContent-Type: text/csv\r\n\r\n' + UPLOAD_CSV + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _post(staff: Staff, running: RunningHq, url: str, path: str, fields: dict[str, str]) -> httpx.Response:
    if path == "/login":
        with httpx.Client(base_url=running.url) as browser:
            login_token = tokens(browser.get("/login").text)["login_token"]
            return browser.post(url, data={"login_token": login_token, **fields})
    if path == "/admin/lists":
        filename = fields.pop("filename", "list.csv")
        body, content_type = _multipart({"csrf_token": staff.csrf, **fields}, filename)
        return staff.client.post(url, content=body, headers={"Content-Type": content_type})
    return staff.post(url, fields)


def test_every_form_value_is_answered_without_a_server_error(walked: tuple[RunningHq, City, Staff]) -> None:
    running, city, staff = walked
    routes = [route for route in _routes() if "POST" in route.methods]
    assert {route.path for route in routes} == set(FORMS), "a POST route is missing from FORMS (or gone)"
    good_form: dict[str, Any] = {"kind": "colour", "gate": "", "hours": "1", "doc_type": "resident-id"}
    for route in sorted(routes, key=lambda r: r.path == "/logout"):  # signing out last
        for name in FORMS[route.path]:
            for value in TEXT:
                answer = _post(staff, running, _url(route, city.good), route.path, {**good_form, name: value})
                _answered(answer, f"POST {route.path} {name}={value[:30]!r}")
        for name in _params(route.dependant, "path"):
            for value in TEXT:
                if value:
                    answer = _post(staff, running, _url(route, city.good, **{name: value}), route.path, {})
                    _answered(answer, f"POST {route.path} with {name}={value[:30]!r}")
        if route.path != "/login":  # the only form without a session, and so without its CSRF token
            for value in TEXT:
                answer = _post(staff, running, _url(route, city.good), route.path, {"csrf_token": value})
                _answered(answer, f"POST {route.path} csrf_token={value[:30]!r}")
                assert answer.status_code == 403, f"POST {route.path} took a forged CSRF token {value[:30]!r}"


@pytest.mark.parametrize(
    "path", ["/", "/alerts", "/gates/north-gate", "/admin/gates", "/admin/passes", "/admin/lists", "/admin/audit"]
)
def test_a_crafted_page_link_gets_a_400_page_that_says_so(walked: tuple[RunningHq, City, Staff], path: str) -> None:
    staff = walked[2]
    for cursor in ["garbage", encode_cursor([10**30]), encode_cursor(["\x00"]), encode_cursor([[]])]:
        answer = staff.get(path, after=cursor)

        assert answer.status_code == 400, (path, cursor, answer.status_code)
        assert "this page link is damaged; go back to the first page" in answer.text
