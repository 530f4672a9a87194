"""Signed-out and expired visits to the dashboard, over HTTP against a live HQ: each is sent to the sign-in page
with the way back (a page, with its query; a form, to the overview), an expired one told so and its cookie
dropped; forms carry small fields only; the sign-in page's own messages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update
from tests.dash_testkit import Staff, make_user
from tests.sync_testkit import RunningHq, signing_key_file, start_hq  # noqa: F401

from sync.core.clock import utc_text
from sync.hq.tables import staff_sessions
from sync.hq.staff import Role
from sync.hq.web.core import LoginNeeded


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory, signing_key_file: Path) -> Iterator[RunningHq]:  # noqa: F811
    for running in start_hq(str(tmp_path_factory.mktemp("dash-sessions") / "hq.db"), signing_key_file):
        make_user(running.db, "ada", Role.ADMIN)
        yield running


def test_a_page_opened_signed_out_leads_to_sign_in_and_back_with_its_query(dash: RunningHq) -> None:
    page = httpx.get(dash.url + "/trace?from=2026-11-23T08:00&to=2026-11-23T09:00")
    home = httpx.get(dash.url + "/")

    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Ftrace%3Ffrom%3D2026-11-23T08%3A00%26to%3D2026-11-23T09%3A00"
    assert home.headers["location"] == "/login?next=%2F"
    assert "set-cookie" not in page.headers


def test_a_form_posted_signed_out_leads_to_sign_in_then_the_overview(dash: RunningHq) -> None:
    answer = httpx.post(dash.url + "/trace/person", data={"id_number": "x"})
    assert (answer.status_code, answer.headers["location"]) == (303, "/login?next=%2F")


def test_an_expired_session_is_told_so_and_its_cookie_dropped(dash: RunningHq) -> None:
    ada = Staff(dash.url, "ada")
    with dash.db.begin() as conn:
        conn.execute(update(staff_sessions).values(last_seen_at=utc_text(datetime.now(UTC) - timedelta(hours=1))))

    answer = ada.get("/admin/gates")

    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=%2Fadmin%2Fgates&expired=1"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith('pocket_hq_session=""') and "Path=/" in cookie and "Max-Age=0" in cookie
    login = httpx.get(dash.url + answer.headers["location"]).text
    assert "Your session expired; sign in again." in login and 'value="/admin/gates"' in login
    ada.close()


def test_signed_out_the_sign_in_page_says_so(dash: RunningHq) -> None:
    assert "Signed out." in httpx.get(dash.url + "/login?signed_out=1").text
    assert "Signed out." not in httpx.get(dash.url + "/login").text


def test_forms_take_small_fields_only(dash: RunningHq) -> None:
    ada = Staff(dash.url, "ada")
    with_file = ada.client.post("/trace/person", data={"csrf_token": ada.csrf}, files={"f": ("a.csv", b"x", "text/csv")})
    many = ada.client.post("/trace/person", data={"csrf_token": ada.csrf, **{f"f{i}": "x" for i in range(50)}})
    enough = ada.client.post("/trace/person", data={"csrf_token": ada.csrf, **{f"f{i}": "x" for i in range(49)}})

    assert (with_file.status_code, many.status_code) == (400, 400)
    assert enough.status_code == 422  # read, then answered for what it lacks (no ID number)
    ada.close()


def test_a_missing_session_is_not_an_expired_one() -> None:
    assert (LoginNeeded().expired, str(LoginNeeded())) == (False, "sign in first")


def test_a_fresh_hq_escapes_what_a_page_is_given(tmp_path: Path, signing_key_file: Path) -> None:  # noqa: F811
    """An HQ of its own (the pages' template set-up happens as it starts): text from a link is escaped."""
    for running in start_hq(str(tmp_path / "hq.db"), signing_key_file):
        page = httpx.get(running.url + "/login?next=/%3Cb%3Ehello%3C/b%3E").text
        assert 'value="/&lt;b&gt;hello&lt;/b&gt;"' in page and "<b>hello" not in page
