"""The staff dashboard over HTTP against a live HQ (SQLite, and PostgreSQL when reachable): sign-in, sessions,
CSRF and roles; the three tracing queries, their pages and CSV files; the audit log; hostile text escaped.

Entries are made by a real gate store and taken in by HQ's real ingest (tests/dash_testkit.py), at times set
relative to now, so the tracing windows are real; the overview's HQ has its district at midday (a zone chosen
for the moment the test runs), so that its 'today' is real too and no midnight falls during the test.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select, update
from tests.dash_testkit import (
    PASSWORD,
    Event,
    Staff,
    assert_paged,
    ingest_rows,
    make_user,
    person,
    record,
    record_and_ingest,
    tokens,
    walk_pages,
)
from tests.sync_testkit import (  # noqa: F401
    BACKENDS,
    Gate,
    MakeGate,
    RunningHq,
    _postgres_database,
    hq_db_url,
    issuer_keys,
    make_gate,
    signing_key_file,
    start_hq,
)

from sync.core.chain import entry_hash
from sync.core.clock import utc_text
from sync.core.codes.base import Colour
from sync.core.identity import load_district_key
from sync.core.policy import Decision, Direction
from sync.core.policy.rules import RULES
from sync.hq import lists
from sync.hq.tables import audit_log, gates, staff_sessions
from sync.hq.gates import add_gate
from sync.hq.staff import Role, disable_user

ZONE = ZoneInfo("Asia/Shanghai")
HOSTILE_NAME = "<script>alert('name')</script>"
HOSTILE_REASON = '<img src=x onerror="alert(1)">'
FORMULA_KEEPER = "=HYPERLINK(\"http://x\")"


def local(moment: datetime) -> str:
    return moment.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")


class City:
    """Who passed where in the module's HQ (see `city`)."""

    def __init__(self, key: bytes) -> None:
        now = datetime.now(UTC)
        self.t = (now.astimezone(ZONE) - timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
        self.index_id, self.index = person(key, 1)
        self.near_id, self.near = person(key, 2)
        self.later_id, self.later = person(key, 3)
        self.south_id, self.south = person(key, 4)
        self.elsewhere_id, self.elsewhere = person(key, 5)
        self.regular_id, self.regular = person(key, 6)
        self.window = {"from": local(self.t - timedelta(days=1)), "to": local(now + timedelta(minutes=5))}


@pytest.fixture(scope="module", params=BACKENDS)
def city_hq(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, signing_key_file: Path, issuer_keys: Path
) -> Iterator[tuple[RunningHq, City]]:
    """One HQ per backend for the module, holding a small city: an index person, the people near them, and, for
    paging, a gate with 131 passages, a person with 110, and a gate whose upload had 120 gaps."""
    folder = tmp_path_factory.mktemp("dash-http")
    if request.param == "sqlite":
        urls: Iterator[str] = iter([str(folder / "hq.db")])
    else:
        urls = _postgres_database()
    url = next(urls)
    key = load_district_key(issuer_keys / "district.key")
    try:
        for running in start_hq(url, signing_key_file, district_key_file=issuer_keys / "district.key", timezone="Asia/Shanghai"):
            c = City(key)
            t = c.t
            record_and_ingest(running.db, folder, "north-gate", [
                Event(t, c.index),
                Event(t + timedelta(minutes=5), c.near),
                Event(t + timedelta(minutes=40), c.later),
                Event(t - timedelta(minutes=2), None, name=HOSTILE_NAME, decision=Decision.REFUSE,
                      reasons=(HOSTILE_REASON,), operator=FORMULA_KEEPER, colour=None),
                Event(t + timedelta(hours=3), c.index, direction=Direction.OUT),
            ])
            record_and_ingest(running.db, folder, "south-gate", [
                Event(t + timedelta(days=1), c.index),
                Event(t + timedelta(days=1, minutes=-10), c.south, decision=Decision.REFUSE, colour=Colour.RED,
                      reasons=("red code",)),
            ])
            record_and_ingest(running.db, folder, "east-gate", [
                Event(t, c.elsewhere),
                *[Event(t + timedelta(minutes=i), person(key, 100 + i)[1]) for i in range(1, 131)],
            ])
            record_and_ingest(running.db, folder, "west-gate", [
                Event(t + timedelta(minutes=5 * i), c.regular, direction=Direction.OUT if i % 2 else Direction.IN)
                for i in range(110)
            ])
            add_gate(running.db, "tampered-gate")
            every_other = record(folder, "tampered-gate", [Event(t + timedelta(minutes=i), None) for i in range(241)])[::2]
            ingest_rows(running.db, "tampered-gate", every_other)
            make_user(running.db, "vera")
            make_user(running.db, "ada", Role.ADMIN)
            yield running, c
    finally:
        for _ in urls:  # drops the PostgreSQL database
            pass


@pytest.fixture
def vera(city_hq: tuple[RunningHq, City]) -> Iterator[Staff]:
    client = Staff(city_hq[0].url, "vera")
    yield client
    client.close()


@pytest.fixture
def ada(city_hq: tuple[RunningHq, City]) -> Iterator[Staff]:
    client = Staff(city_hq[0].url, "ada")
    yield client
    client.close()


def _rows(html: str) -> list[str]:
    """The text of each result row's first cell (its time), in page order."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<tr>\s*<td class="nowrap">([^<]+)</td>', body)


def _csv(answer: httpx.Response) -> list[dict[str, str]]:
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))


def _audit(running: RunningHq, action: str) -> list[tuple[str, str]]:
    with running.db.read() as conn:
        rows = conn.execute(select(audit_log.c.username, audit_log.c.detail).where(audit_log.c.action == action))
        return [(r.username, r.detail) for r in rows]


# -- who may see what ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/gates/north-gate", "/alerts", "/policy", "/trace", "/trace/gate?gate=north-gate",
                                  "/trace/person.csv?subject=" + "0" * 32, "/admin/gates", "/admin/audit"])
def test_a_page_without_a_session_sends_the_browser_to_sign_in(city_hq: tuple[RunningHq, City], path: str) -> None:
    answer = httpx.get(city_hq[0].url + path)

    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")


def test_sign_in_returns_to_the_page_asked_for_and_refuses_a_wrong_password(city_hq: tuple[RunningHq, City]) -> None:
    running, _ = city_hq
    with httpx.Client(base_url=running.url) as browser:
        form = tokens(browser.get("/login?next=/alerts").text)
        wrong = browser.post("/login", data={"username": "vera", "password": "not it at all", "next": "/alerts", **form})
        assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
        form = tokens(wrong.text)
        right = browser.post("/login", data={"username": "vera", "password": PASSWORD, "next": "/alerts", **form})
        assert (right.status_code, right.headers["location"]) == (303, "/alerts")
        offsite = tokens(browser.get("/login").text)
        away = browser.post("/login", data={"username": "vera", "password": PASSWORD, "next": "//evil.example/", **offsite})
        assert away.headers["location"] == "/"
    assert ("vera", '{"why": "wrong name or password"}') in _audit(running, "sign-in refused")


def test_the_sign_in_form_needs_its_own_token(city_hq: tuple[RunningHq, City]) -> None:
    answer = httpx.post(city_hq[0].url + "/login", data={"username": "vera", "password": PASSWORD, "login_token": "forged"})

    assert answer.status_code == 403 and "out of date" in answer.text
    assert "set-cookie" not in answer.headers or "pocket_hq_session" not in answer.headers["set-cookie"]


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(city_hq: tuple[RunningHq, City], ada: Staff) -> None:
    running, _ = city_hq

    answer = ada.client.post("/admin/gates", data={"gate_id": "forged-gate", "csrf_token": "not-the-token"})
    missing = ada.client.post("/admin/gates", data={"gate_id": "forged-gate"})

    assert answer.status_code == missing.status_code == 403
    assert "did not come from HQ&#39;s own page" in answer.text
    with running.db.read() as conn:
        assert conn.execute(select(gates.c.gate_id).where(gates.c.gate_id == "forged-gate")).first() is None


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/admin/gates"), ("get", "/admin/passes"), ("get", "/admin/lists"), ("get", "/admin/audit"),
     ("get", "/admin/uploads/x"), ("post", "/admin/gates"), ("post", "/admin/gates/north-gate/revoke"),
     ("post", "/admin/gates/north-gate/token"), ("post", "/admin/gates/north-gate/rekey"), ("post", "/admin/passes"), ("post", "/admin/passes/p/revoke"),
     ("post", "/admin/uploads/x/apply")],
)
def test_a_viewer_is_refused_on_every_admin_page(
    city_hq: tuple[RunningHq, City], vera: Staff, method: str, path: str
) -> None:
    running, _ = city_hq
    answer = vera.get(path) if method == "get" else vera.post(path, {"gate_id": "viewer-gate"})

    assert answer.status_code == 403
    assert "this page is for admins; vera is a viewer" in answer.text
    with running.db.read() as conn:
        assert conn.execute(select(gates.c.revoked_at).where(gates.c.gate_id == "north-gate")).scalar() is None
        assert conn.execute(select(gates.c.gate_id).where(gates.c.gate_id == "viewer-gate")).first() is None


def test_the_viewer_sees_no_admin_links_and_pages_carry_security_headers(vera: Staff) -> None:
    page = vera.get("/")

    assert page.status_code == 200 and "/admin/gates" not in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    assert not re.search(r"<script(?![^>]*\bsrc=\"/static/)", page.text), "no script but HQ's own files"


def test_signing_out_ends_the_session_for_good(city_hq: tuple[RunningHq, City]) -> None:
    client = Staff(city_hq[0].url, "vera")
    cookie = client.client.cookies["pocket_hq_session"]

    assert client.post("/logout").headers["location"] == "/login?signed_out=1"
    replay = httpx.get(city_hq[0].url + "/", cookies={"pocket_hq_session": cookie})

    assert replay.status_code == 303 and replay.headers["location"].startswith("/login")
    client.close()


def test_a_disabled_account_is_signed_out_at_once(city_hq: tuple[RunningHq, City]) -> None:
    running, _ = city_hq
    make_user(running.db, "temp-worker")
    client = Staff(running.url, "temp-worker")
    assert client.get("/").status_code == 200

    disable_user(running.db, "temp-worker")

    assert client.get("/").status_code == 303
    with httpx.Client(base_url=running.url) as browser:
        form = tokens(browser.get("/login").text)
        again = browser.post("/login", data={"username": "temp-worker", "password": PASSWORD, **form})
    assert again.status_code == 401
    client.close()


def test_an_idle_session_expires_and_says_so(tmp_path: Path, signing_key_file: Path) -> None:
    for running in start_hq(str(tmp_path / "hq.db"), signing_key_file, session_idle_minutes=30):
        make_user(running.db, "vera")
        client = Staff(running.url, "vera")
        assert client.get("/").status_code == 200
        idle_since = utc_text(datetime.now(UTC) - timedelta(minutes=31))  # rather than wait half an hour
        with running.db.begin() as conn:
            conn.execute(update(staff_sessions).values(last_seen_at=idle_since))

        answer = client.get("/trace")

        assert answer.status_code == 303 and answer.headers["location"].endswith("&expired=1")
        assert "Your session expired" in httpx.get(running.url + answer.headers["location"]).text
        client.close()


def test_the_policy_page_shows_each_rule_with_what_its_settings_do(tmp_path: Path, signing_key_file: Path) -> None:
    """The dashboard's policy view is built from the policy's one declaration: every registered rule, every
    setting with its value and its own docstring, and what this HQ does not know named apart."""
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text('[colours]\nyellow = "hold"\n\n[certificates]\nnaa_test_hours = 48\n\n[quarantine]\ndays = 7\n')
    for running in start_hq(str(tmp_path / "hq.db"), signing_key_file):
        make_user(running.db, "vera")
        client = Staff(running.url, "vera")
        before = client.get("/policy").text
        lists.set_policy(running.db, lists.policy_file(policy_file))
        page = client.get("/policy").text
        client.close()

    assert "No policy published" in before
    assert all(f"<h2>[{rule.name}]</h2>" in page for rule in RULES)
    assert re.search(r"<code>naa_test_hours</code></td><td[^>]*>48</td><td>...when its sample was taken at most", page)
    assert re.search(r"<code>yellow</code></td><td[^>]*>hold</td><td>Yellow: at risk", page)
    assert re.search(r"does not know, published for newer gates and ignored by this version\S*s: quarantine<", page)


# -- tracing -------------------------------------------------------------------------------------------------


def test_a_person_is_traced_by_id_number_which_is_never_kept(city_hq: tuple[RunningHq, City], vera: Staff) -> None:
    running, c = city_hq

    answer = vera.post("/trace/person", {"id_number": c.index_id, "doc_type": "resident-id", **c.window})

    assert answer.status_code == 303
    location = answer.headers["location"]
    assert c.index_id not in location and f"subject={c.index}" in location
    page = vera.client.get(location)
    assert page.status_code == 200
    assert re.search(r'id="total">3<', page.text)
    assert [t[11:16] for t in _rows(page.text)] == ["10:00", "13:00", "10:00"]
    rows = _csv(vera.client.get("/trace/person.csv", params={"subject": c.index, **c.window}))
    assert [(r["gate"], r["direction"], r["subject"]) for r in rows] == [
        ("north-gate", "in", c.index), ("north-gate", "out", c.index), ("south-gate", "in", c.index)
    ]
    assert rows[0]["time"].endswith("T10:00:00+08:00")  # the district's time, ISO 8601 with its offset
    searches = [(user, detail) for user, detail in _audit(running, "trace person") + _audit(running, "export person csv")
                if user == "vera"]  # other tests on this HQ search too, in whatever order they run
    assert len(searches) >= 2 and all(c.index in detail for _, detail in searches)
    with running.db.read() as conn:
        assert not [d for (d,) in conn.execute(select(audit_log.c.detail)) if c.index_id in d]


def test_a_mistyped_id_number_is_explained(city_hq: tuple[RunningHq, City], vera: Staff) -> None:
    wrong = city_hq[1].index_id[:-1] + ("0" if city_hq[1].index_id[-1] != "0" else "1")

    answer = vera.post("/trace/person", {"id_number": wrong, **city_hq[1].window})

    assert answer.status_code == 422 and "the check digit does not match" in answer.text


def test_contacts_are_those_at_the_same_gate_within_n_minutes(city_hq: tuple[RunningHq, City], vera: Staff) -> None:
    running, c = city_hq

    answer = vera.post("/trace/contacts", {"id_number": c.index_id, "minutes": "15", **c.window})
    page = vera.client.get(answer.headers["location"])
    rows = _csv(vera.client.get("/trace/contacts.csv", params={"subject": c.index, "minutes": "15", **c.window}))
    wider = _csv(vera.client.get("/trace/contacts.csv", params={"subject": c.index, "minutes": "60", **c.window}))

    assert page.status_code == 200 and re.search(r'id="total">3<', page.text) and re.search(r'id="people">2<', page.text)
    assert [(r["gate"], r["subject"], r["minutes_apart"]) for r in rows] == [
        ("north-gate", "", "2.0"), ("north-gate", c.near, "5.0"), ("south-gate", c.south, "10.0")
    ]
    assert c.later in {r["subject"] for r in wider} and c.elsewhere not in {r["subject"] for r in wider}
    assert c.index not in {r["subject"] for r in wider}
    assert _audit(running, "trace contacts")[0][0] == "vera"


def _shown(moment: datetime) -> str:
    """A time as the city's pages show it."""
    return moment.astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S")


def test_a_gates_passages_come_page_by_page_each_once(city_hq: tuple[RunningHq, City], vera: Staff) -> None:
    _, c = city_hq

    first = vera.get("/trace/gate", gate="east-gate", **c.window)
    pages = walk_pages(vera, "/trace/gate", _rows, gate="east-gate", **c.window)

    assert re.search(r'id="total">131<', first.text) and re.search(r'id="people">131<', first.text)
    assert [len(p) for p in pages] == [50, 50, 31]
    assert_paged(pages, [_shown(c.t + timedelta(minutes=i)) for i in range(131)])
    rows = _csv(vera.get("/trace/gate.csv", gate="east-gate", **c.window))
    assert len(rows) == 131 and len({r["entry_id"] for r in rows}) == 131


def test_a_persons_passages_come_page_by_page_each_once(city_hq: tuple[RunningHq, City], vera: Staff) -> None:
    _, c = city_hq

    pages = walk_pages(vera, "/trace/person", _rows, subject=c.regular, **c.window)

    assert [len(p) for p in pages] == [50, 50, 10]
    assert_paged(pages, [_shown(c.t + timedelta(minutes=5 * i)) for i in range(110)])


def test_a_persons_contacts_come_page_by_page_each_once(city_hq: tuple[RunningHq, City], vera: Staff) -> None:
    _, c = city_hq

    pages = walk_pages(vera, "/trace/contacts", _rows, subject=c.elsewhere, minutes="120", **c.window)

    assert [len(p) for p in pages] == [50, 50, 20]
    assert_paged(pages, [_shown(c.t + timedelta(minutes=i)) for i in range(1, 121)])


def test_alerts_come_page_by_page_newest_first_each_once(city_hq: tuple[RunningHq, City], vera: Staff) -> None:
    def seqs(html: str) -> list[str]:
        return re.findall(r"<td>(#\d+)</td>", html)

    pages = walk_pages(vera, "/alerts", seqs, gate="tampered-gate")

    assert [len(p) for p in pages] == [50, 50, 20]
    assert_paged(pages, [f"#{seq}" for seq in range(241, 2, -2)])


def test_a_damaged_page_link_or_window_is_explained(city_hq: tuple[RunningHq, City], vera: Staff) -> None:
    _, c = city_hq

    damaged = vera.get("/trace/gate", gate="east-gate", after="not-a-cursor!", **c.window)
    backwards = vera.get("/trace/gate", gate="east-gate", **{"from": c.window["to"], "to": c.window["from"]})
    unknown = vera.get("/trace/gate", gate="nowhere", **c.window)
    nonsense = vera.get("/trace/person", subject="x' OR 1=1 --", **c.window)

    assert damaged.status_code == 422 and "page link is damaged" in damaged.text
    assert backwards.status_code == 422 and "must end after it starts" in backwards.text
    assert unknown.status_code == 422 and "no gate nowhere is enrolled" in unknown.text
    assert nonsense.status_code == 422 and "does not name a person" in nonsense.text


def test_text_from_gates_is_escaped_on_pages_and_defused_in_csv(city_hq: tuple[RunningHq, City], vera: Staff) -> None:
    _, c = city_hq

    page = vera.get("/trace/gate", gate="north-gate", **c.window)
    rows = _csv(vera.get("/trace/gate.csv", gate="north-gate", **c.window))

    assert HOSTILE_NAME not in page.text and "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;" in page.text
    assert HOSTILE_REASON not in page.text and "&lt;img src=x" in page.text
    hostile = next(r for r in rows if r["name"] == HOSTILE_NAME)
    assert hostile["keeper"] == "'" + FORMULA_KEEPER and hostile["reasons"] == HOSTILE_REASON


# -- the audit log -------------------------------------------------------------------------------------------


def _audit_of(running: RunningHq, username: str) -> list[tuple[str, dict[str, object], int | None]]:
    with running.db.read() as conn:
        rows = conn.execute(
            select(audit_log.c.action, audit_log.c.detail, audit_log.c.results)
            .where(audit_log.c.username == username)
            .order_by(audit_log.c.id)
        )
        return [(r.action, json.loads(r.detail), r.results) for r in rows]


def test_the_gate_query_and_every_csv_export_are_audited_with_the_account(
    city_hq: tuple[RunningHq, City], ada: Staff
) -> None:
    running, c = city_hq
    make_user(running.db, "tracer")
    tracer = Staff(running.url, "tracer")

    gate_page = tracer.get("/trace/gate", gate="north-gate", **c.window)
    exports = [
        _csv(tracer.get("/trace/person.csv", subject=c.index, **c.window)),
        _csv(tracer.get("/trace/gate.csv", gate="north-gate", **c.window)),
        _csv(tracer.get("/trace/contacts.csv", subject=c.index, minutes="15", **c.window)),
    ]
    tracer.close()

    assert gate_page.status_code == 200 and [len(rows) for rows in exports] == [3, 5, 3]
    logged = _audit_of(running, "tracer")
    assert [(action, results) for action, _, results in logged] == [
        ("sign-in", None), ("trace gate", 5), ("export person csv", 3), ("export gate csv", 5),
        ("export contacts csv", 3),
    ]
    start, end = (c.window[k] for k in ("from", "to"))
    details = [detail for _, detail, _ in logged[1:]]
    assert details[0]["gate"] == "north-gate" and details[0]["page"] == "first"
    assert details[1]["subject"] == c.index and details[2]["gate"] == "north-gate"
    assert details[3]["subject"] == c.index and details[3]["minutes"] == "15"
    assert all(d["complete"] is True for d in details[1:])
    assert all(_shown(datetime.fromisoformat(str(d["from"])))[:16] == start.replace("T", " ") for d in details)
    assert all(_shown(datetime.fromisoformat(str(d["to"])))[:16] == end.replace("T", " ") for d in details)
    page = ada.get("/admin/audit", user="tracer").text
    assert re.findall(r"<td>tracer</td><td>([^<]+)</td>", page) == [
        "export contacts csv", "export gate csv", "export person csv", "trace gate", "sign-in",
    ]


def test_the_audit_log_comes_page_by_page_newest_first_each_once(city_hq: tuple[RunningHq, City], ada: Staff) -> None:
    running, c = city_hq
    make_user(running.db, "pager")
    pager = Staff(running.url, "pager")
    ends = [c.t + timedelta(hours=1, minutes=i) for i in range(55)]
    for end in ends:  # each search a different window, so that each audit row says something of its own
        assert pager.get("/trace/person", subject=c.index, **{"from": c.window["from"], "to": local(end)}).status_code == 200
    pager.close()

    def windows(html: str) -> list[str]:
        return re.findall(r"<span>to: ([^<]+)</span>", html)

    pages = walk_pages(ada, "/admin/audit", windows, user="pager", action="trace person")

    assert [len(p) for p in pages] == [50, 5]
    # in the district's time, as every time on the dashboard
    assert_paged(pages, [_shown(end.replace(second=0, microsecond=0)) for end in reversed(ends)])


# -- overview ------------------------------------------------------------------------------------------------

STALE_MINUTES = 60
TEMPERATURE = "temperature 38.2 °C (limit below 37.3 °C)"
NOT_RESIDENT = "not a resident and no valid pass from HQ"


def midday_zone(now: datetime) -> str:
    """A whole-hour zone in which `now` is between noon and one o'clock: the district's 'today' then holds the
    twelve hours before now, whenever the test runs, and no midnight falls while it runs."""
    offset = 12 - now.hour
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def _break_chain(gate: Gate, seq: int) -> None:
    """Edit one of the gate's stored entries and give it a matching hash, as someone covering their tracks would:
    the entry after it no longer follows it."""
    with gate.store() as store:
        row = store.entries(after_seq=seq - 1, limit=1)[0]
    row["operator"] = "someone else"
    conn = sqlite3.connect(gate.config.database)
    try:
        with conn:
            conn.execute("UPDATE entries SET operator = ?, hash = ? WHERE seq = ?", (row["operator"], entry_hash(row), seq))
    finally:
        conn.close()


@pytest.fixture
def today_hq(hq_db_url: str, signing_key_file: Path, make_gate: MakeGate, tmp_path: Path) -> Iterator[RunningHq]:
    """A live HQ (on each backend) whose district is at midday (see `midday_zone`), with traffic today and
    yesterday at gate-a; quiet-gate, last heard from before the stale threshold; and north-gate, a real gate
    whose upload through the gate API broke its hash chain."""
    now = datetime.now(UTC)

    def ago(minutes: float) -> datetime:
        return now - timedelta(minutes=minutes)

    for running in start_hq(hq_db_url, signing_key_file, timezone=midday_zone(now), stale_after_minutes=STALE_MINUTES):
        stores = tmp_path / "stores"
        record_and_ingest(running.db, stores, "gate-a", [
            *[Event(ago(300 - 30 * i), f"{i:032x}") for i in range(3)],
            *[Event(ago(200 - 10 * i), f"{i:032x}", direction=Direction.OUT) for i in range(2)],
            *[Event(ago(180 - 10 * i), f"{10 + i:032x}", decision=Decision.REFUSE, reasons=(TEMPERATURE.replace("38.2", t),))
              for i, t in enumerate(("38.2", "39.0"))],
            Event(ago(120), f"{20:032x}", decision=Decision.REFUSE, colour=Colour.RED, reasons=("red code",)),
            Event(ago(60), f"{21:032x}", decision=Decision.HOLD, colour=Colour.YELLOW, reasons=("yellow code",)),
            *[Event(ago(20 * 60 + i), f"{30 + i:032x}", decision=Decision.REFUSE, colour=Colour.RED,
                    reasons=("yesterday's reason",)) for i in range(4)],
        ])
        record_and_ingest(running.db, stores, "quiet-gate", [
            Event(ago(240), f"{40:032x}"),
            Event(ago(235), None, decision=Decision.REFUSE, colour=None, reasons=(NOT_RESIDENT,)),
        ], received=ago(STALE_MINUTES + 15))
        gate = make_gate(running, "north-gate")
        gate.log(4)
        gate.log(2, direction=Direction.OUT, start=4)
        _break_chain(gate, 3)
        assert gate.sync().uploaded == 6
        make_user(running.db, "vera")
        yield running


def _tile(html: str, name: str) -> str:
    found = re.search(rf'id="tile-{name}">(.*?)</(?:div|a)>', html, re.S)
    assert found, f"no tile {name}"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def _gate_row(html: str, gate_id: str) -> tuple[str, list[int]]:
    """A gate's state and its numbers (attempts, let in, left, refused, held, red, yellow, alerts) in the overview's
    table."""
    found = re.search(rf'data-gate="{gate_id}">(.*?)</tr>', html, re.S)
    assert found, f"no row for {gate_id}"
    state = re.search(r'class="badge s-(\w+)"', found.group(1))
    assert state
    return state.group(1), [int(n) for n in re.findall(r'<td class="num[^"]*">(?:<a [^>]*>)?(\d+)', found.group(1))]


def _bar_titles(html: str, description: str) -> list[str]:
    chart = html.split(f'aria-label="{description}"', 1)[1].split("</svg>", 1)[0]
    return re.findall(r"<title>([^<]+)</title>", chart)


def test_the_overview_counts_today_and_flags_stale_gates_and_alerts(today_hq: RunningHq) -> None:
    vera = Staff(today_hq.url, "vera")
    overview = vera.get("/").text
    stale_only = vera.get("/", show="stale").text

    assert _tile(overview, "entries") == "17 attempts 8 let in, 4 left"
    assert _tile(overview, "refused") == "4 refused 1 held"
    assert _tile(overview, "codes") == "1 red-code attempts 1 yellow"
    assert _tile(overview, "alerts") == "1 alerts today 1 gates with alerts"
    assert _tile(overview, "stale") == f"1 of 3 gates stale no contact for {STALE_MINUTES:.1f} min"
    hourly = [re.fullmatch(r"\S+: (\d+) attempts: (\d+) let in, (\d+) left, (\d+) refused, (\d+) held", t) for t in
              _bar_titles(overview, "attempts per hour today, district")]
    assert len(hourly) == 24 and all(hourly)
    assert [sum(int(m.group(i)) for m in hourly if m) for i in (1, 2, 3, 4, 5)] == [17, 8, 4, 4, 1]
    assert _bar_titles(overview, "refusals and holds by reason") == [
        "temperature too high: 2 refused, 0 held", "no valid pass: 1 refused, 0 held", "red code: 1 refused, 0 held",
        "yellow code: 0 refused, 1 held", "yellow code: 1 held",
    ]
    assert "yesterday&#39;s reason" not in overview
    assert re.search(r'class="badge a-broken">broken</span> <a href="/gates/north-gate">north-gate</a> #4', overview)
    assert _gate_row(overview, "gate-a") == ("ok", [9, 3, 2, 3, 1, 1, 1, 0])
    assert _gate_row(overview, "quiet-gate") == ("stale", [2, 1, 0, 1, 0, 0, 0, 0])
    assert _gate_row(overview, "north-gate") == ("ok", [6, 4, 2, 0, 0, 0, 0, 1])
    assert 'data-gate="quiet-gate"' in stale_only
    assert 'data-gate="gate-a"' not in stale_only and 'data-gate="north-gate"' not in stale_only
    vera.close()


def test_a_gate_page_shows_its_day_and_alerts(today_hq: RunningHq) -> None:
    vera = Staff(today_hq.url, "vera")

    busy = vera.get("/gates/gate-a").text
    quiet = vera.get("/gates/quiet-gate").text
    broken = vera.get("/gates/north-gate").text

    assert "<dt>Today</dt><dd>9 attempts: 3 let in, 2 left, 3 refused, 1 held; 1 red and 1 yellow codes</dd>" in busy
    assert 'Gate quiet-gate <span class="badge s-stale">stale</span>' in quiet
    assert 'Gate north-gate <span class="badge s-ok">ok</span>' in broken
    assert re.search(r'<span class="badge a-broken">broken</span></td><td>#4</td>', broken)
    assert vera.get("/gates/nowhere").status_code == 404
    assert vera.get("/", show="sideways").status_code == 422
    vera.close()
