"""HQ for a city: two `pocket-hq serve` processes started by the test on one PostgreSQL database, behind a
round-robin proxy as behind a city's reverse proxy. Uploads alternate between them and arrive exactly once; a
process killed mid-upload, or mid-way through checking a list, loses nothing; rate limits and sessions hold
across both; the background purge runs once; `--workers` runs several on one address (over HTTPS too), and is
refused on SQLite.

The processes are shared by the module's tests (each test uses gates and accounts of its own), so that the
set-up is paid once; a test that kills one starts it again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update
from tests.city_testkit import HqProcess
from tests.dash_testkit import PASSWORD, Event, Staff, make_user, record_and_ingest, tokens
from tests.helpers import make_resident_id
from tests.sync_testkit import (  # noqa: F401 - fixtures
    FaultyProxy,
    Gate,
    _postgres_database,
    issuer_keys,
    signing_key_file,
    wait_until,
)

from kiosk.uplink.enrollment import enroll
from sync.core.clock import utc_text
from sync.hq import lists, partitions, uploads
from sync.hq.cli import main as hq_main
from sync.hq.db import HqDatabase
from sync.hq.gates import add_gate, list_alerts
from sync.hq.staff import Role
from sync.hq.tables import audit_log, entries, hq_processes, jobs, staged_uploads, upload_files
from sync.hq.tls import create_self_signed

GATE_LIMIT = 60
"""Requests a gate may make an hour, over both processes (each test's gate makes fewer)."""
POLL = "0.1"
"""Seconds between each process's looks for background work."""


@dataclass
class City:
    db_url: str
    db: HqDatabase
    hqs: list[HqProcess]
    proxy: FaultyProxy
    folder: Path

    def process_name(self, hq: HqProcess) -> str:
        """How `hq` names itself in `hq_processes` ('host:pid')."""
        with self.db.read() as conn:
            names = conn.execute(select(hq_processes.c.name)).scalars().all()
        return next(name for name in names if name.endswith(f":{hq.pid}"))

    def polled_at(self, hq: HqProcess) -> str | None:
        with self.db.read() as conn:
            return conn.execute(select(hq_processes.c.polled_at).where(
                hq_processes.c.name.endswith(f":{hq.pid}"))).scalar()


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory, signing_key_file: Path, issuer_keys: Path) -> Iterator[City]:
    for url in _postgres_database():
        folder = tmp_path_factory.mktemp("city")
        db = HqDatabase(url)
        db.upgrade()
        hqs = [
            HqProcess(url, signing_key_file, folder / f"hq-{i}.log", "--district-key", str(issuer_keys / "district.key"),
                      "--rate-limit", f"{GATE_LIMIT}/hour", job_poll_seconds=POLL, login_account_limit="3/hour")
            for i in range(2)
        ]
        for hq in hqs:
            hq.launch()
        for hq in hqs:
            hq.ready()
        proxy = FaultyProxy([hq.url for hq in hqs])
        try:
            yield City(url, db, hqs, proxy, folder)
        finally:
            proxy.close()
            for hq in hqs:
                hq.stop()
            db.dispose()


def city_gate(city: City, gate_id: str, **config: object) -> Gate:
    """A gate enrolled through the proxy (so through either process), uploading 100 entries a batch."""
    token = add_gate(city.db, gate_id)
    folder = city.folder / gate_id
    folder.mkdir()
    values = {"database": "gate.db", "sync_retry_seconds": 0, "sync_timeout_seconds": 10, "sync_batch_entries": 100,
              **config}
    lines = [f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v}" for k, v in values.items()]
    (folder / "kiosk.toml").write_text("\n".join(lines) + "\n")
    enroll(folder / "kiosk.toml", city.proxy.url, token)
    return Gate(folder, folder / "kiosk.toml", token)


def held_once(city: City, gate_id: str) -> list[str]:
    """The ids HQ holds for the gate, in sequence order, after checking that none is held twice."""
    with city.db.read() as conn:
        rows = conn.execute(select(entries.c.id, func.count()).where(entries.c.gate == gate_id)
                            .group_by(entries.c.id, entries.c.seq).order_by(entries.c.seq)).all()
    assert all(n == 1 for _, n in rows), "an entry is held twice"
    return [entry_id for entry_id, _ in rows]


def sync_until_done(gate: Gate, attempts: int = 5) -> None:
    for _ in range(attempts):
        status = gate.sync()
        if status.online and status.entries_waiting == 0:
            return
    raise AssertionError(f"the gate still has entries waiting: {status.last_error}")


def upload_alerts(city: City, gate: str) -> list[dict[str, object]]:
    """The alerts uploads themselves raise (an entry rewritten, edited or refused). The city's gates log the same
    sample people, so those people entering at two gates (`two_gates`, issue 12) is another matter."""
    return [alert for alert in list_alerts(city.db, gate) if alert["kind"] != "two_gates"]


def test_a_gates_uploads_alternate_between_the_processes_and_arrive_exactly_once(city: City) -> None:
    gate = city_gate(city, "north-gate")
    ids = gate.log(1000)
    before = len(city.proxy.answers)

    status = gate.sync()

    assert status.online and status.entries_waiting == 0, status.last_error
    uploads_by = [a.upstream for a in city.proxy.answers[before:] if a.path.endswith("/entries")]
    assert len(uploads_by) == 10 and set(uploads_by) == {0, 1}
    assert all(one != next_one for one, next_one in zip(uploads_by, uploads_by[1:])), uploads_by
    assert held_once(city, "north-gate") == ids
    assert upload_alerts(city, "north-gate") == []


def test_killing_a_process_mid_upload_loses_nothing(city: City) -> None:
    gate = city_gate(city, "east-gate")
    ids = gate.log(1000)
    killed: list[int] = []

    def kill(upstream: int) -> None:  # the upload reached that process whole: it dies where it stands
        killed.append(upstream)
        city.hqs[upstream].kill()

    city.proxy.fail_next("drop", "/entries")  # the first upload's answer is lost: it is sent again
    city.proxy.then_next(kill, "/entries")
    try:
        sync_until_done(gate)
        assert len(killed) == 1 and not city.hqs[killed[0]].alive
        assert held_once(city, "east-gate") == ids
        assert upload_alerts(city, "east-gate") == []
    finally:
        for hq in city.hqs:
            if not hq.alive:
                hq.start()


def test_a_process_that_dies_checking_a_list_leaves_the_check_to_another(city: City) -> None:
    make_user(city.db, "ada", Role.ADMIN)
    admin = Staff(city.hqs[0].url, "ada")
    rows = 100_000
    csv = "id_number,colour,note\n" + "".join(f"{make_resident_id(i)},red,case {i}\n" for i in range(rows))
    answer = admin.post("/admin/lists", {"kind": "colour"}, files={"file": ("red.csv", csv.encode(), "text/csv")})
    assert answer.status_code == 303, answer.text
    upload_id = answer.headers["location"].rsplit("/", 1)[1]
    admin.close()

    def checker() -> HqProcess | None:
        """The process checking the upload, once it is part-way through."""
        with city.db.read() as conn:
            doing = conn.execute(select(hq_processes.c.name).where(
                hq_processes.c.doing == f"{uploads.CHECK_JOB}:{upload_id}")).scalar()
        read = uploads.get(city.db, upload_id).rows_read
        return next((hq for hq in city.hqs if doing and doing.endswith(f":{hq.pid}")), None) if read else None

    wait_until(lambda: checker() is not None, "a process part-way through the check", seconds=60)
    dying = checker()
    assert dying is not None
    try:
        dying.kill()
        assert uploads.get(city.db, upload_id).state is uploads.State.CHECKING

        wait_until(lambda: uploads.get(city.db, upload_id).state is not uploads.State.CHECKING,
                   "the other process's check", seconds=90)
        done = uploads.get(city.db, upload_id)
        assert (done.state, done.rows_read, done.added) == (uploads.State.READY, rows, rows), done.message

        def left_behind() -> tuple[object, object]:
            """The check's job row and the file's parts: the job ends (a moment after the upload is READY) by
            removing both."""
            with city.db.read() as conn:
                return (conn.execute(select(jobs.c.name).where(jobs.c.name.contains(upload_id))).first(),
                        conn.execute(select(upload_files.c.part).where(upload_files.c.upload_id == upload_id)).first())

        wait_until(lambda: left_behind() == (None, None), "the check's job and file removed", seconds=30)
    finally:
        dying.start()
    with city.db.begin() as conn:  # leave the list as it was for the other tests
        conn.execute(update(staged_uploads).where(staged_uploads.c.id == upload_id).values(state="discarded"))


def test_a_gates_rate_limit_and_a_sign_in_limit_hold_across_both_processes(city: City) -> None:
    token = add_gate(city.db, "south-gate")
    before = len(city.proxy.answers)
    with httpx.Client(base_url=city.proxy.url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        allowed = [client.get("/v1/gate").status_code for _ in range(GATE_LIMIT)]
        refused = [client.get("/v1/gate") for _ in range(2)]
    assert allowed == [200] * GATE_LIMIT
    assert {a.upstream for a in city.proxy.answers[before:]} == {0, 1}, "both processes answered"
    assert [r.status_code for r in refused] == [429, 429], "each process refuses what the other allowed"
    assert {a.upstream for a in city.proxy.answers[-2:]} == {0, 1}
    assert all(int(r.headers["Retry-After"]) > 3000 for r in refused)

    make_user(city.db, "vera")

    def sign_in(hq: HqProcess, password: str) -> httpx.Response:
        with httpx.Client(base_url=hq.url, timeout=10) as browser:
            form = tokens(browser.get("/login").text)
            return browser.post("/login", data={"username": "vera", "password": password, **form})

    wrong = [sign_in(city.hqs[i % 2], "not the password").status_code for i in range(3)]  # 3 an hour, over both
    assert wrong == [401, 401, 401]
    for hq in city.hqs:
        held = sign_in(hq, PASSWORD)
        assert held.status_code == 429 and "Too many failed sign-ins for this account" in held.text


def test_a_session_and_a_gates_bundle_hold_whichever_process_answers(city: City) -> None:
    make_user(city.db, "wen")
    staff = Staff(city.hqs[0].url, "wen")
    other = httpx.Client(base_url=city.hqs[1].url, cookies=staff.client.cookies, timeout=10)
    assert other.get("/").status_code == 200, "the session made by one process is known to the other"
    assert other.post("/logout", data={"csrf_token": staff.csrf}).status_code == 303
    assert staff.get("/").status_code == 303, "signed out through one process, signed out everywhere"
    staff.close()
    other.close()

    gate = city_gate(city, "west-gate")
    first = gate.sync().bundle_version
    version = lists.replace_colour_list(city.db, [{"subject": "a" * 32, "colour": "red", "note": "published"}])
    answered = []
    for _ in range(2):  # one request to each process: neither serves the bundle it signed before
        before = len(city.proxy.answers)
        status = gate.sync()
        answered += [a.upstream for a in city.proxy.answers[before:] if a.path.endswith("/bundle")]
        assert status.online and status.bundle_version == version > first, status.last_error
    assert set(answered) == {0, 1}


def test_a_background_purge_runs_once_across_both_processes(city: City) -> None:
    now = datetime.now(UTC)
    old = [Event(now - timedelta(days=40, minutes=i), f"{i:032x}") for i in range(3)]
    recent = [Event(now - timedelta(days=1, minutes=i), f"{i:032x}") for i in range(2)]
    rows = record_and_ingest(city.db, city.folder / "purged", "purged-gate", old + recent)
    with city.db.read() as conn:
        before = conn.execute(select(jobs.c.runs).where(jobs.c.name == "purge")).scalar_one()
    with city.db.begin() as conn:  # the purge's day has come round
        conn.execute(update(jobs).where(jobs.c.name == "purge").values(due_at=utc_text(now)))

    def purge_row() -> object:
        with city.db.read() as conn:
            return conn.execute(select(jobs).where(jobs.c.name == "purge")).one()

    wait_until(lambda: purge_row().runs > before, "the purge", seconds=30)
    finished = purge_row().finished_at
    wait_until(lambda: all((city.polled_at(hq) or "") > finished for hq in city.hqs),
               "both processes looking for work again after the purge", seconds=30)

    run = purge_row()
    assert run.runs == before + 1, "the purge ran once"
    assert run.process in {city.process_name(hq) for hq in city.hqs}
    assert run.due_at > utc_text(now + timedelta(hours=23))
    assert re.match(r"purged 3 entries", run.outcome), run.outcome
    assert held_once(city, "purged-gate") == [r["id"] for r in rows[3:]]


def test_serve_runs_several_workers_on_postgresql_only(city: City, signing_key_file: Path, tmp_path: Path) -> None:
    refused = CliRunner().invoke(hq_main, ["serve", "--db", str(tmp_path / "hq.db"), "--signing-key",
                                           str(signing_key_file), "--workers", "2"])
    assert refused.exit_code == 2
    assert "--workers 2 needs PostgreSQL: HQ on SQLite" in refused.output and not (tmp_path / "hq.db").exists()

    with city.db.read() as conn:
        known = set(conn.execute(select(hq_processes.c.name)).scalars())
    workers = HqProcess(city.db_url, signing_key_file, tmp_path / "workers.log", "--workers", "2",
                        job_poll_seconds=POLL).start()
    try:
        def new_processes() -> set[str]:
            with city.db.read() as conn:
                return set(conn.execute(select(hq_processes.c.name)).scalars()) - known

        wait_until(lambda: len(new_processes()) == 2, "two worker processes looking for work", seconds=30)
        assert all(name.split(":")[1] != str(workers.pid) for name in new_processes()), "the workers, not their parent"
    finally:
        workers.stop()


def test_several_workers_serve_https_with_hqs_certificate(city: City, signing_key_file: Path, tmp_path: Path) -> None:
    cert, key = tmp_path / "hq-tls.crt", tmp_path / "hq-tls.key"
    fingerprint = create_self_signed(cert, key, ["127.0.0.1"])
    with city.db.read() as conn:
        known = set(conn.execute(select(hq_processes.c.name)).scalars())
    workers = HqProcess(city.db_url, signing_key_file, tmp_path / "workers.log", "--workers", "2",
                        "--tls-cert", str(cert), "--tls-key", str(key), job_poll_seconds=POLL).start()
    try:
        said = (tmp_path / "workers.log").read_text()
        assert f"TLS certificate {fingerprint} (gates pin it)" in said
        assert f"dashboard: https://127.0.0.1:{workers.port}/" in said and "2 HQ processes on one address" in said

        def new_processes() -> set[str]:
            with city.db.read() as conn:
                return set(conn.execute(select(hq_processes.c.name)).scalars()) - known

        wait_until(lambda: len(new_processes()) == 2, "two worker processes looking for work", seconds=30)
        for _ in range(4):  # a connection each: whichever worker takes it answers over TLS with the certificate
            with httpx.Client(verify=workers.verify()) as client:
                assert client.get(workers.url + "/healthz").json() == {"ok": True}
        with pytest.raises(httpx.TransportError):  # and nothing in the clear
            httpx.get(f"http://127.0.0.1:{workers.port}/healthz", timeout=5)
    finally:
        workers.stop()


def test_the_address_a_trusted_proxy_forwards_is_the_clients_and_no_one_elses_is_believed(
    city: City, signing_key_file: Path, tmp_path: Path
) -> None:
    def signed_out_from(url: str, username: str) -> str:
        """Sign in and out at `url`, saying (as a proxy does) that the request comes from 203.0.113.7; the
        address the audit log records for the sign-out."""
        make_user(city.db, username)
        staff = Staff(url, username)
        staff.client.headers["X-Forwarded-For"] = "203.0.113.7"
        assert staff.client.post("/logout", data={"csrf_token": staff.csrf}).status_code == 303
        staff.close()
        with city.db.read() as conn:
            return str(conn.execute(select(audit_log.c.client).where(
                audit_log.c.username == username, audit_log.c.action == "sign-out")).scalar_one())

    assert signed_out_from(city.proxy.url, "ida") == "203.0.113.7", "a proxy on HQ's own host is believed"
    elsewhere = HqProcess(city.db_url, signing_key_file, tmp_path / "hq.log", "--forwarded-allow-ips",
                          "192.0.2.1, 10.0.0.0/24", job_poll_seconds=POLL).start()
    try:
        assert signed_out_from(elsewhere.url, "ivo") == "127.0.0.1", "only the proxies named are believed"
    finally:
        elsewhere.stop()

    refused = CliRunner().invoke(hq_main, ["serve", "--db", str(tmp_path / "hq.db"), "--signing-key",
                                           str(signing_key_file), "--forwarded-allow-ips", "proxy.example"])
    assert refused.exit_code != 0 and not (tmp_path / "hq.db").exists()
    assert "'proxy.example' is not an address or network such as 10.0.0.5" in refused.output


def test_db_status_shows_the_months_held_the_processes_serving_and_the_jobs_they_share(
    city: City, tmp_path: Path
) -> None:
    shown = CliRunner().invoke(hq_main, ["db", "status", "--db", city.db_url])

    assert shown.exit_code == 0, shown.output
    this_month = partitions.Month.of(datetime.now(UTC))
    assert re.search(rf"\n  {this_month.name} +~ *[\d,]+\n", shown.output), shown.output
    assert f"\n  {this_month.plus(partitions.AHEAD_MONTHS).name} " in shown.output, "months made ahead"
    assert re.search(r"\n  entries_default +[\d,]+\n", shown.output)
    when = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"  # in the district's zone, with its offset
    for hq in city.hqs:
        assert re.search(rf"\n  {city.process_name(hq)} +{when}", shown.output)
    assert re.search(rf"\n  purge +due {when}, run \d+ times?, last finished {when} by \S+:\d+: purged \d+ entries",
                     shown.output), shown.output

    one = CliRunner().invoke(hq_main, ["db", "status", "--db", str(tmp_path / "hq.db")])
    assert one.exit_code == 0, one.output
    assert "entries: one table (SQLite: one HQ process)" in one.output and "HQ processes" not in one.output
