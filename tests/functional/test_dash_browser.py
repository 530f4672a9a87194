"""The dashboard in a real browser: Debian's Chromium driven by Playwright against a live HQ on 127.0.0.1.

A person signs in, watches a gate go stale, uploads a red list and reads its preview, runs each tracing query
and downloads its CSV, and finds the day whose counts differ between a gate and HQ; a viewer is turned away from
admin pages, and a page opened without signing in leads to the sign-in form. Screenshots of the overview are saved
as artifacts (the run's summary names the folder).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select, update
from playwright.sync_api import Browser, Page, expect, sync_playwright
from tests.dash_testkit import PASSWORD, Event, make_user, person, record_and_ingest
from tests.helpers import make_resident_id
from tests.parts import chromium
from tests.sync_testkit import MakeGate, RunningHq, issuer_keys, make_gate, signing_key_file, start_hq  # noqa: F401

from kiosk.duty_log import DutyLog
from sync.core.codes.base import Colour
from sync.core.duty import DutyKind
from sync.core.identity import load_district_key
from sync.core.policy import Decision, Direction
from sync.core.clock import utc_text
from sync.core.protocol import IncidentReport, WireIncident
from sync.hq import incidents
from sync.hq.staff import Role
from sync.hq.tables import entries, gates

ZONE = "Asia/Shanghai"
STALE_MINUTES = 60



@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium()),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        yield launched
        launched.close()


class Town:
    def __init__(self, key: bytes) -> None:
        zone = ZoneInfo(ZONE)
        self.now = datetime.now(UTC)
        self.start = self.now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
        self.index_id, self.index = person(key, 11)
        self.near_id, self.near = person(key, 12)
        self.t = self.now - timedelta(minutes=90)
        self.span = min(max((self.now - self.start).total_seconds(), 600.0), 20 * 3600.0)
        """Seconds before now that the day's traffic is spread over (today's hours, or the last 10 minutes)."""
        self.window = (self.now - timedelta(days=1)).astimezone(zone), (self.now + timedelta(minutes=5)).astimezone(zone)


@pytest.fixture(scope="module")
def town_hq(tmp_path_factory: pytest.TempPathFactory, signing_key_file: Path, issuer_keys: Path) -> Iterator[tuple[RunningHq, Town]]:
    """An HQ (SQLite) that calls a gate stale after an hour without contact, with today's traffic at two gates."""
    folder = tmp_path_factory.mktemp("dash-browser")
    key = load_district_key(issuer_keys / "district.key")
    for running in start_hq(str(folder / "hq.db"), signing_key_file, district_key_file=issuer_keys / "district.key",
                            timezone=ZONE, stale_after_minutes=STALE_MINUTES):
        town = Town(key)
        for g, gate in enumerate(["east-market", "south-gate"]):
            events = [
                Event(town.now - timedelta(seconds=town.span * (1 - (i + 0.5) / 60)), person(key, 200 + i)[1],
                      direction=Direction.OUT if i % 3 else Direction.IN,
                      decision=Decision.REFUSE if i % 9 == 0 else Decision.PASS,
                      colour=Colour.RED if i % 18 == 0 else Colour.GREEN,
                      reasons=("temperature 38.1 °C (limit below 37.3 °C)",) if i % 9 == 0 else ("green code",))
                for i in range(60 - 20 * g)
            ]
            if gate == "east-market":
                events += [Event(town.t, town.index), Event(town.t + timedelta(minutes=6), town.near)]
            record_and_ingest(running.db, folder, gate, events)
        make_user(running.db, "ada", Role.ADMIN)
        make_user(running.db, "vera")
        yield running, town


def sign_in(page: Page, base: str, username: str, start: str = "/") -> None:
    page.goto(base + start)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[[], Page]]:
    contexts = []

    def _make() -> Page:
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        contexts.append(context)
        return context.new_page()

    yield _make
    for context in contexts:
        context.close()


def test_a_page_opened_without_signing_in_leads_to_sign_in_and_back(town_hq: tuple[RunningHq, Town], new_page: Callable[[], Page]) -> None:
    running, _ = town_hq
    page = new_page()

    page.goto(running.url + "/alerts")

    assert page.url == running.url + "/login?next=%2Falerts"
    expect(page.locator("h1")).to_have_text("Sign in")
    page.fill("input[name=username]", "vera")
    page.fill("input[name=password]", "a wrong password")
    page.click("form[action='/login'] button[type=submit]")
    expect(page.locator(".error")).to_contain_text("Wrong user name or password")
    page.fill("input[name=username]", "vera")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    expect(page.locator("h1")).to_have_text("Alerts")
    assert page.url == running.url + "/alerts"


def test_a_gate_that_stops_syncing_is_flagged_stale(
    town_hq: tuple[RunningHq, Town], new_page: Callable[[], Page], make_gate: MakeGate, artifacts: Callable[[str], Path]
) -> None:
    running, _ = town_hq
    gate = make_gate(running, "north-gate")
    gate.log(12)
    gate.log(3, direction=Direction.OUT, start=12)
    assert gate.sync().uploaded == 15
    page = new_page()
    sign_in(page, running.url, "ada")

    row = page.locator("tr[data-gate='north-gate']")
    expect(row.locator(".badge")).to_have_text("ok")
    expect(row.locator("td.num").first).to_have_text("15")  # attempts
    expect(row.locator("td.num").nth(1)).to_have_text("12")  # let in
    page.screenshot(path=artifacts("dashboard/overview.png"), full_page=True)
    # The gate falls silent. Rather than wait out the threshold, HQ's record of its last contact is moved back
    # past it, once the sightings its requests left are written (what the server does every second, done now:
    # a sighting written later never moves a gate's last contact back, so none may be left to write).
    running.server.app.state.hq.sightings.flush()
    with running.db.begin() as conn:
        conn.execute(update(gates).where(gates.c.gate_id == "north-gate").values(
            last_seen_at=utc_text(datetime.now(UTC) - timedelta(minutes=STALE_MINUTES + 5))))
    page.reload()

    expect(row.locator(".badge")).to_have_text("stale")
    expect(row.locator("td").nth(2)).to_have_text(re.compile(r"^6\d min ago$"))
    expect(page.locator("#tile-stale")).to_contain_text("gates stale")
    page.screenshot(path=artifacts("dashboard/overview-stale-gate.png"), full_page=True)
    page.click("a[href='/?show=stale']")
    expect(page.locator("tr[data-gate='north-gate']")).to_be_visible()
    page.screenshot(path=artifacts("dashboard/overview-stale-only.png"), full_page=True)


def test_a_red_list_upload_shows_its_preview_before_it_is_applied(
    town_hq: tuple[RunningHq, Town], new_page: Callable[[], Page], tmp_path: Path, artifacts: Callable[[str], Path]
) -> None:
    running, _ = town_hq
    bad = tmp_path / "wrong.csv"
    bad.write_text("id,colour\n1,red\n")
    good = tmp_path / "red-list.csv"
    good.write_text("id_number,colour,note\n" + "".join(
        f"{make_resident_id(i)},{'red' if i % 2 else 'yellow'},case {i}\n" for i in range(300, 340)
    ))
    page = new_page()
    sign_in(page, running.url, "ada", "/admin/lists")

    page.set_input_files("#form-colour input[type=file]", str(bad))
    page.click("#form-colour button[type=submit]")
    expect(page.locator("#problem")).to_contain_text("lacks the column(s) id_number")
    page.goto(running.url + "/admin/lists")
    page.set_input_files("#form-colour input[type=file]", str(good))
    page.click("#form-colour button[type=submit]")

    expect(page.locator("#n-added")).to_have_text("40", timeout=20_000)
    expect(page.locator("#n-removed")).to_have_text("0")
    expect(page.locator("#changes tbody tr")).to_have_count(40)
    page.screenshot(path=artifacts("dashboard/red-list-preview.png"), full_page=True)
    page.click("#form-apply button")
    expect(page.locator("#state")).to_contain_text("Applied")
    page.goto(running.url + "/admin/lists")
    expect(page.locator("main")).to_contain_text("In force: 20 red, 20 yellow")


def _download(page: Page) -> list[dict[str, str]]:
    with page.expect_download() as info:
        page.click("#csv")
    path = info.value.path()
    return list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"))))


def test_each_tracing_query_runs_and_downloads_as_csv(
    town_hq: tuple[RunningHq, Town], new_page: Callable[[], Page], artifacts: Callable[[str], Path]
) -> None:
    running, town = town_hq
    start, end = (t.strftime("%Y-%m-%dT%H:%M") for t in town.window)
    page = new_page()
    sign_in(page, running.url, "vera", "/trace")

    person_form = page.locator("#form-person")
    person_form.locator("input[name=id_number]").fill(town.index_id)
    person_form.locator("input[name=from]").fill(start)
    person_form.locator("input[name=to]").fill(end)
    person_form.locator("button").click()
    expect(page.locator("#total")).to_have_text("1")
    assert town.index_id not in page.url
    assert [(r["gate"], r["subject"]) for r in _download(page)] == [("east-market", town.index)]

    page.goto(running.url + "/trace")
    gate_form = page.locator("#form-gate")
    gate_form.locator("select[name=gate]").select_option("south-gate")
    gate_form.locator("input[name=from]").fill(start)
    gate_form.locator("input[name=to]").fill(end)
    gate_form.locator("button").click()
    expect(page.locator("#total")).to_have_text("40")
    page.screenshot(path=artifacts("dashboard/trace-gate.png"), full_page=True)
    rows = _download(page)
    assert len(rows) == 40 and {r["gate"] for r in rows} == {"south-gate"}

    page.goto(running.url + "/trace")
    contacts_form = page.locator("#form-contacts")
    contacts_form.locator("input[name=id_number]").fill(town.index_id)
    contacts_form.locator("input[name=from]").fill(start)
    contacts_form.locator("input[name=to]").fill(end)
    contacts_form.locator("input[name=minutes]").fill("10")
    contacts_form.locator("button").click()
    expect(page.locator("h1")).to_have_text("Who was near this person?")
    rows = _download(page)
    assert town.near in {r["subject"] for r in rows}
    assert all(float(r["minutes_apart"]) <= 10 for r in rows)
    assert town.index not in {r["subject"] for r in rows}


def test_a_contact_goes_from_a_trace_to_the_yellow_list(
    town_hq: tuple[RunningHq, Town], new_page: Callable[[], Page], artifacts: Callable[[str], Path]
) -> None:
    """Issue 19: an admin ticks a contact on the contacts result, previews, applies; the lists page shows the entry,
    the trace it came from and when it lapses, and takes it off early."""
    running, town = town_hq
    start, end = (t.strftime("%Y-%m-%dT%H:%M") for t in town.window)
    page = new_page()
    sign_in(page, running.url, "ada", "/trace")
    contacts_form = page.locator("#form-contacts")
    contacts_form.locator("input[name=id_number]").fill(town.index_id)
    contacts_form.locator("input[name=from]").fill(start)
    contacts_form.locator("input[name=to]").fill(end)
    contacts_form.locator("input[name=minutes]").fill("10")
    contacts_form.locator("button").click()
    expect(page.locator("h1")).to_have_text("Who was near this person?")
    result = page.url

    page.locator(f"input[type=checkbox][value='{town.near}']").check()
    page.locator("#to-list select[name=colour]").select_option("yellow")
    page.locator("#to-list input[name=reason]").fill("close contact at east-market")
    page.locator("#to-list input[name=days]").fill("2")
    page.locator("#to-list button").click()
    expect(page.locator("#n-added")).to_have_text("1")
    expect(page.locator("#changes tbody tr")).to_have_count(1)
    page.screenshot(path=artifacts("dashboard/trace-to-list-preview.png"), full_page=True)
    page.locator("#form-apply button").click()

    expect(page.locator("#traced-done")).to_contain_text("1 person put on the list from a trace")
    row = page.locator("#traced tbody tr", has_text="close contact at east-market")
    expect(row).to_contain_text("yellow")
    lapses = (town.now + timedelta(days=2)).astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d")
    expect(row.locator("td.until")).to_contain_text(lapses)
    page.screenshot(path=artifacts("dashboard/trace-to-list-lists.png"), full_page=True)
    row.locator("a", has_text="a trace").click()
    assert page.url == result
    page.go_back()
    page.locator("#traced tbody tr", has_text="close contact at east-market").locator("button").click()
    expect(page.locator("#traced tbody")).not_to_contain_text("close contact at east-market")


def test_an_open_incident_heads_the_overview_until_closed(
    town_hq: tuple[RunningHq, Town], new_page: Callable[[], Page], artifacts: Callable[[str], Path]
) -> None:
    """Issue 19: a red-code incident a gate sent is on the overview at once; a viewer closes it."""
    running, town = town_hq
    incident = WireIncident(
        id="01J0000000000000000000000Z", entry_id="01J0000000000000000000000Y", ts=utc_text(town.now),
        subject=town.near, name="L* S*", colour="red", reasons=["red code"], outcome="waiting for the health team",
        keeper="keeper-7",
    )
    with running.db.begin() as conn:
        incidents.store_report(conn, IncidentReport(gate="east-market", incidents=[incident]), town.now)
    page = new_page()
    sign_in(page, running.url, "vera")
    panel = page.locator("#incidents")
    expect(panel).to_contain_text("1 open red-code incident")
    expect(panel).to_contain_text("waiting for the health team")
    expect(panel).to_contain_text("keeper-7")
    page.screenshot(path=artifacts("dashboard/overview-incident.png"), full_page=True)
    panel.locator("button").click()
    expect(page.locator("h1")).to_contain_text("District overview")
    expect(page.locator("#incidents")).to_have_count(0)


def test_a_viewer_is_refused_on_admin_pages(town_hq: tuple[RunningHq, Town], new_page: Callable[[], Page]) -> None:
    running, _ = town_hq
    page = new_page()
    sign_in(page, running.url, "vera")

    expect(page.locator("header nav")).not_to_contain_text("Gates")
    for path in ("/admin/lists", "/admin/gates", "/admin/audit"):
        answer = page.goto(running.url + path)
        assert answer is not None and answer.status == 403
        expect(page.locator(".error")).to_contain_text("this page is for admins; vera is a viewer")


def test_an_account_switches_the_dashboard_to_chinese_and_every_page_reads_in_it(
    town_hq: tuple[RunningHq, Town], new_page: Callable[[], Page], artifacts: Callable[[str], Path]
) -> None:
    """The header's language control (a choice and its button: the dashboard runs no script) makes the account's
    pages Chinese from then on, in this browser and any other; screenshots of each page in Chinese are saved."""
    running, town = town_hq
    make_user(running.db, "lin", Role.ADMIN)
    page = new_page()
    sign_in(page, running.url, "lin")
    expect(page.locator("h1")).to_contain_text("District overview")

    page.locator("#form-language select").select_option("zh_CN")
    page.locator("#form-language button").click()

    expect(page.locator("h1")).to_contain_text("全区总览")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("header nav")).to_contain_text("追踪")
    expect(page.locator(".reason-labels")).to_contain_text("体温过高")
    expect(page.locator("footer")).to_have_text(f"时间均为 {ZONE} 时间。")
    page.screenshot(path=artifacts("dashboard/zh_CN/overview.png"), full_page=True)
    other = new_page()
    sign_in(other, running.url, "lin")  # the choice is the account's, not the browser's
    expect(other.locator("h1")).to_contain_text("全区总览")

    start, end = (t.strftime("%Y-%m-%dT%H:%M") for t in town.window)
    page.goto(running.url + "/trace")
    expect(page.locator("h1")).to_contain_text("密接追踪")
    page.screenshot(path=artifacts("dashboard/zh_CN/trace.png"), full_page=True)
    gate_form = page.locator("#form-gate")
    gate_form.locator("select[name=gate]").select_option("south-gate")
    gate_form.locator("input[name=from]").fill(start)
    gate_form.locator("input[name=to]").fill(end)
    gate_form.locator("button").click()
    expect(page.locator("h1")).to_contain_text("谁经过了这个门岗？")
    expect(page.locator("td.reasons-cell").first).to_have_text(re.compile(r"^(体温 38\.1 °C（须低于 37\.3 °C）|绿码)$"))
    page.screenshot(path=artifacts("dashboard/zh_CN/trace-gate.png"), full_page=True)
    for path, title, shot in [("/gates/east-market", "门岗 east-market", "gate"), ("/admin/gates", "门岗", "admin-gates"),
                              ("/admin/audit", "审计日志", "audit"), ("/policy", "防控规则", "policy")]:
        page.goto(running.url + path)
        expect(page.locator("h1")).to_contain_text(title)
        page.screenshot(path=artifacts(f"dashboard/zh_CN/{shot}.png"), full_page=True)

    page.locator("#form-language select").select_option("")
    page.locator("#form-language button").click()
    expect(page.locator("h1")).to_contain_text("Policy")


def test_the_gates_table_stays_inside_its_panel_at_800_px(town_hq: tuple[RunningHq, Town], browser: Browser) -> None:
    running, _ = town_hq
    context = browser.new_context(viewport={"width": 800, "height": 900})
    page = context.new_page()
    sign_in(page, running.url, "vera")
    expect(page.locator("table.gates")).to_be_visible()

    panel = page.locator("section.panel", has=page.locator("table.gates")).bounding_box()
    table = page.locator("table.gates").bounding_box()
    page_width = page.evaluate("document.documentElement.scrollWidth")
    context.close()

    assert panel and table
    assert table["x"] + table["width"] <= panel["x"] + panel["width"] + 1, (table, panel)
    assert page_width <= 800, "nothing makes the page scroll sideways"


def test_a_day_whose_counts_differ_at_hq_is_flagged_on_the_gate_page(
    town_hq: tuple[RunningHq, Town], new_page: Callable[[], Page], make_gate: MakeGate, artifacts: Callable[[str], Path]
) -> None:
    running, town = town_hq
    gate = make_gate(running, "west-gate", timezone=ZONE)
    day = town.start.date() - timedelta(days=2)
    noon = datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(ZONE)) + timedelta(hours=12)
    gate.log(5, at=noon)
    gate.log(2, direction=Direction.OUT, start=5, at=noon + timedelta(hours=1))
    assert gate.sync().last_error is None  # uploads the day, then reports its counts
    with running.db.begin() as conn:  # HQ loses one of that day's entries
        lost = conn.execute(select(entries.c.id).where(entries.c.gate == "west-gate", entries.c.direction == "out")).first()
        conn.execute(delete(entries).where(entries.c.id == lost.id))
    page = new_page()
    sign_in(page, running.url, "vera")

    flag = page.locator("tr[data-gate='west-gate'] a.badge.differs")
    expect(flag).to_have_text("counts differ")
    flag.click()

    assert page.url == running.url + "/gates/west-gate#days"
    row = page.locator(f"#days tr[data-day='{day.isoformat()}']")
    expect(row.locator(".badge")).to_have_text("counts differ")
    expect(row.locator("td.hot")).to_have_text(["7 / 6", "2 / 1"])  # attempts, left
    expect(row.locator("td.num").nth(1)).to_have_text("5 / 5")  # let in: as the gate counted
    page.locator("#days").screenshot(path=artifacts("dashboard/gate-daily-reconciliation.png"))


def test_a_camera_out_for_an_hour_is_a_gap_on_the_duty_timeline_and_in_its_csv(
    town_hq: tuple[RunningHq, Town], new_page: Callable[[], Page], make_gate: MakeGate, artifacts: Callable[[str], Path]
) -> None:
    running, town = town_hq
    gate = make_gate(running, "duty-gate", timezone=ZONE)
    lost = town.now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    with gate.store() as store:
        log = DutyLog(store)
        log.note(DutyKind.SHIFT_ON, lost - timedelta(hours=2))
        log.note(DutyKind.CAMERA_LOST, lost)
        log.note(DutyKind.CAMERA_BACK, lost + timedelta(hours=1))
    assert gate.sync().last_error is None
    page = new_page()
    sign_in(page, running.url, "vera", "/gates/duty-gate")

    page.get_by_role("link", name="Duty timeline, 14 days").click()

    local = lost.astimezone(ZoneInfo(ZONE))
    day = page.locator(f"tr[data-day='{local:%Y-%m-%d}']")
    expect(day.locator(f"td[data-hour='{local:%H}']")).to_have_class(re.compile(r"\bduty-gap\b"))
    expect(day.locator(f"td[data-hour='{local:%H}']")).to_have_text("C")
    after = (lost + timedelta(hours=1)).astimezone(ZoneInfo(ZONE))
    expect(page.locator(f"tr[data-day='{after:%Y-%m-%d}'] td[data-hour='{after:%H}']")).to_have_class(re.compile(r"\bduty-ok\b"))
    page.screenshot(path=artifacts("dashboard/duty-timeline.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["hour", "keeper signed in %", "camera working %", "lists fresh %", "gap"]
    assert [local.isoformat(timespec="minutes"), "100", "0", "100", "yes"] in rows
    assert len(rows) == 1 + 14 * 24
