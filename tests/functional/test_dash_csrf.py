"""CSRF over every state-changing route of the dashboard, found by walking the running app's routes (so a route
added later is covered without anyone listing it): a form posted without its token, or with another one, is
refused (403, saying why) and changes nothing in HQ's database; the same form with the right token is not.

The gate API (`/v1/`) takes no cookies (each gate sends its bearer token), so a forged browser request has
nothing to ride on there; the sign-in form has no session yet and checks its own double-submit token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import select
from tests.dash_testkit import PASSWORD, Staff, make_user, tokens
from tests.helpers import make_resident_id
from tests.sync_testkit import RunningHq, issuer_keys, signing_key_file, start_hq  # noqa: F401

from sync.core.identity import load_district_key
from sync.core.protocol import IncidentReport, WireIncident
from sync.hq import incidents, lists, traced_list, uploads
from sync.hq.tables import metadata, staff_sessions
from sync.hq.gates import add_gate
from sync.hq.staff import Role

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
FORGED = re.compile(r"\bthis form is out of date or did not come from HQ&#39;s own page; reload the page and try again\b")


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory, signing_key_file: Path, issuer_keys: Path) -> Iterator[tuple[RunningHq, dict[str, str]]]:  # noqa: F811
    """A live HQ (SQLite) with an admin, and a real object for each kind of path parameter: a gate, a pass, an
    upload."""
    db = str(tmp_path_factory.mktemp("dash-csrf") / "hq.db")
    for running in start_hq(db, signing_key_file, district_key_file=issuer_keys / "district.key"):
        make_user(running.db, "ada", Role.ADMIN)
        add_gate(running.db, "north-gate")
        now = datetime.now(UTC)
        issued = lists.issue_pass(
            running.db, id_number=make_resident_id(5), district_key=load_district_key(issuer_keys / "district.key"),
            kind="staff", valid_from=now, valid_until=now + timedelta(days=1), gate_id="north-gate",
        )  # fmt: skip
        upload = uploads.create(running.db, uploads.Kind.COLOUR, "red.csv", "ada")
        subject = "ab" * 16
        traced_list.put_on_list(running.db, traced_list.checked_request(
            [subject], "yellow", "contact", "1", "/trace/contacts", now), "ada", now)
        incident = WireIncident(id="01HZZZZZZZZZZZZZZZZZZZZZZZ", entry_id="01HZZZZZZZZZZZZZZZZZZZZZZY",
                                ts="2027-03-01T09:30:00.000Z", outcome="sent home")
        with running.db.begin() as conn:
            incidents.store_report(conn, IncidentReport(gate="north-gate", incidents=[incident]), now)
        yield running, {"gate_id": "north-gate", "pass_id": issued.id, "upload_id": upload.id, "subject": subject,
                        "incident_id": incident.id}


def state_changing_routes(running: RunningHq) -> list[tuple[str, str]]:
    """(method, path template) of every dashboard route that may change something."""
    found = [
        (method, route.path)
        for route in iter_route_contexts(running.server.app.routes)  # included routers flattened, prefixes on
        if isinstance(route.original_route, APIRoute) and not route.path.startswith("/v1/")
        for method in sorted(route.methods & STATE_CHANGING)
    ]
    assert len(found) >= 10, found  # the walk found the dashboard's forms
    return found


def filled(path: str, params: dict[str, str]) -> str:
    names = re.findall(r"{(\w+)}", path)
    missing = [name for name in names if name not in params]
    assert not missing, f"{path}: give the test a real {', '.join(missing)} to post to"
    return path.format(**{name: params[name] for name in names})


def snapshot(running: RunningHq) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the sessions (whose last activity moves with each request)."""
    with running.db.read() as conn:
        return {
            table.name: sorted(map(tuple, conn.execute(select(table))), key=repr)
            for table in metadata.sorted_tables
            if table is not staff_sessions
        }


def test_every_state_changing_route_refuses_a_form_without_the_right_token(dash: tuple[RunningHq, dict[str, str]]) -> None:
    running, params = dash
    routes = state_changing_routes(running)
    ada = Staff(running.url, "ada")
    before = snapshot(running)
    refused: dict[str, list[int]] = {}
    for method, template in routes:
        if template == "/login":
            continue  # no session yet: its own token, below
        path = filled(template, params)
        form = {"gate_id": "forged-gate", "kind": "colour", "id_number": make_resident_id(6), "hours": "24"}
        answers = [
            ada.client.request(method, path, data=form),
            ada.client.request(method, path, data=form | {"csrf_token": "not-the-token"}),
            ada.client.request(method, path, data=form | {"csrf_token": ""}),
        ]
        refused[f"{method} {path}"] = [a.status_code for a in answers if a.status_code == 403 and FORGED.search(a.text)]

    assert {route: len(codes) for route, codes in refused.items()} == dict.fromkeys(refused, 3)
    assert snapshot(running) == before
    assert ada.get("/").status_code == 200  # still signed in: nothing was done in the admin's name
    ada.close()


def test_with_the_right_token_the_same_forms_get_past_the_check(dash: tuple[RunningHq, dict[str, str]]) -> None:
    """The control: the refusals above came from the token alone (each route and its parameters are real)."""
    running, params = dash
    ada = Staff(running.url, "ada")
    answers = {}
    for method, template in sorted(state_changing_routes(running), key=lambda r: r[1] == "/logout"):
        if template != "/login":
            answer = ada.client.request(method, filled(template, params), data={"csrf_token": ada.csrf})
            answers[template] = answer.status_code != 403 and not FORGED.search(answer.text)

    assert answers == dict.fromkeys(answers, True)
    ada.close()


def test_the_sign_in_form_refuses_a_post_without_its_own_token(dash: tuple[RunningHq, dict[str, str]]) -> None:
    running, _ = dash
    assert ("POST", "/login") in state_changing_routes(running)
    with httpx.Client(base_url=running.url) as browser:
        browser.get("/login")  # the sign-in cookie is set; the form's copy is left out, or forged
        answers = [
            browser.post("/login", data={"username": "ada", "password": PASSWORD}),
            browser.post("/login", data={"username": "ada", "password": PASSWORD, "login_token": "forged"}),
        ]
        assert all(a.status_code == 403 and "out of date" in a.text for a in answers)
        assert "pocket_hq_session" not in browser.cookies
        form = tokens(browser.get("/login").text)
        signed_in = browser.post("/login", data={"username": "ada", "password": PASSWORD, **form})
        assert signed_in.status_code == 303 and "pocket_hq_session" in browser.cookies
