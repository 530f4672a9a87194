"""HQ dashboard benchmark: a city's month of entries, then the time of each tracing query and of the pages staff
open. Prints figures, asserts nothing (target: every tracing query under 1 s at 10 million entries).

1. Load: N synthetic entries (default 10 million) spread over the retention period at G gates of uneven size
   (a market gate is busier than a dormitory's), P people who mostly use their home gate, the gates' verdict
   mix (refusals by temperature, pass and code colour; red and yellow codes), in time order as gates upload
   them. Bulk-loaded the efficient way: secondary indexes dropped, rows streamed in (SQLite executemany in one
   transaction; PostgreSQL COPY), indexes built afterwards from HQ's own schema, then HQ's own
   `stats.rebuild` and ANALYZE. Progress is printed as it goes. Hashes are random, not chained: chain
   checking is ingest's job, measured by bench/sync_bench.py.
2. Measure: HQ runs as `pocket-hq serve` on 127.0.0.1, a staff account signs in through the real form, and
   each request is timed from the client (cold, then the median of repeats): the overview, a busy gate's
   page, the three tracing queries (first page and a later page) and their CSV downloads. The tracing queries
   are also timed directly (count + first page, no HTTP) so the database's share is visible.
3. Optionally (--list-rows 1000000) a red/yellow list CSV of that many rows is uploaded through the dashboard,
   checked and previewed, then applied; each step timed.

Both SQLite and, when one is reachable at $POCKET_HQ_TEST_POSTGRES, PostgreSQL, one after the other.

On PostgreSQL HQ's entries table is partitioned by month (`sync.hq.partitions`). With `--layout both` (the
default) the entries are loaded into the table as it was before (unpartitioned, migration 0007) and measured,
then moved over by HQ's own migration (0008, timed: what an operator's upgrade of a loaded city database costs),
vacuumed and measured again, and the two are printed side by side. `--layout partitioned` loads straight into
the partitioned table; `--layout plain` measures only the unpartitioned one.

    .venv/bin/python bench/hq_bench.py                       # 10 million entries, both databases
    .venv/bin/python bench/hq_bench.py --entries 200000      # a quick run
    .venv/bin/python bench/hq_bench.py --db postgresql       # partitioned beside unpartitioned only
    .venv/bin/python bench/hq_bench.py --reuse               # measure again on databases loaded before
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import secrets
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg
from alembic import command
from alembic.config import Config
from sqlalchemy import Index, func, select, text

from sync.core.identity import create_district_key, load_district_key, resident_id_check_digit, subject_hash
from sync.core.clock import utc_text
from sync.core.bundle import create_signing_key
from sync.hq import partitions, stats, tracing
from sync.hq.db import MIGRATIONS, HqDatabase
from sync.hq.tables import alerts, entries, gates
from sync.hq.staff import Role, add_user

from scratch_postgres import drop_database  # bench/, beside this script

POSTGRES_URL = os.environ.get("POCKET_HQ_TEST_POSTGRES", "postgresql://pocket:pocket@127.0.0.1:5432/postgres")
HQ_BIN = Path(sys.executable).with_name("pocket-hq")
OUT = Path(__file__).resolve().parent / "out"
COLUMNS = [c.name for c in entries.columns]
CHUNK = 200_000
PASSWORD = "bench password 1"
BASE32 = np.frombuffer(b"0123456789ABCDEFGHJKMNPQRSTVWXYZ", dtype=np.uint8)
HOUR_PROFILE = np.array([1, 1, 1, 1, 1, 2, 5, 9, 10, 7, 5, 5, 6, 5, 5, 5, 6, 8, 10, 9, 6, 4, 2, 1], dtype=float)
NAMES = ["Z**** S**", "L* S*", "W*** W**", "C**** M**", "张*", "李**", "王*", "H** Y**"]


def say(message: str) -> None:
    print(message, flush=True)


def id_number(person: int) -> str:
    first17 = f"1101011990{person:07d}"
    return first17 + resident_id_check_digit(first17)


# -- the synthetic city --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class City:
    entries: int
    gates: int
    people: int
    days: int
    now: datetime
    seed: int = 7

    @property
    def gate_ids(self) -> list[str]:
        return [f"gate-{i:04d}" for i in range(self.gates)]

    def gate_weights(self) -> np.ndarray:
        weights = 1 / np.arange(1, self.gates + 1) ** 0.8
        return weights / weights.sum()


def _ulids(ms: np.ndarray, rng: np.random.Generator) -> list[str]:
    """ULIDs for these millisecond times (48-bit time, 80 random bits), vectorised."""
    n = len(ms)
    chars = np.empty((n, 26), dtype=np.uint8)
    value = ms.astype(np.int64).copy()
    for i in range(9, -1, -1):
        chars[:, i] = BASE32[value % 32]
        value //= 32
    chars[:, 10:] = BASE32[rng.integers(0, 32, size=(n, 16))]
    return chars.view("S26").ravel().astype(str).tolist()


def generate(city: City, subjects: list[str]) -> Iterator[list[tuple[Any, ...]]]:
    """Rows (tuples in COLUMNS order) in time order, a chunk at a time."""
    rng = np.random.default_rng(city.seed)
    gate_ids = city.gate_ids
    weights = city.gate_weights()
    home = rng.choice(city.gates, size=city.people, p=weights)
    start = (city.now - timedelta(days=city.days)).replace(minute=0, second=0, microsecond=0)
    hours = city.days * 24
    profile = np.array([HOUR_PROFILE[(start + timedelta(hours=h)).hour] for h in range(hours)])
    per_hour = rng.multinomial(city.entries, profile / profile.sum())
    start_ms = int(start.timestamp() * 1000)
    seqs = [0] * city.gates
    last_hash = ["0" * 64] * city.gates
    pending: list[tuple[Any, ...]] = []
    hour_bounds = np.concatenate([[0], np.cumsum(per_hour)])
    for block in range(0, hours, 24):
        first, last = hour_bounds[block], hour_bounds[min(block + 24, hours)]
        n = int(last - first)
        if n == 0:
            continue
        hour_of_row = np.repeat(np.arange(block, min(block + 24, hours)), per_hour[block : block + 24])
        ms = np.sort(start_ms + hour_of_row * 3_600_000 + rng.integers(0, 3_600_000, size=n))
        ms = np.minimum(ms, int(city.now.timestamp() * 1000) - 1)
        ts = [t + "+00:00" for t in np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms").tolist()]
        received = [t + "+00:00" for t in np.datetime_as_string((ms + 120_000).astype("datetime64[ms]"), unit="ms").tolist()]
        ids = _ulids(ms, rng)
        who = rng.integers(0, city.people, size=n)
        away = rng.random(n) < 0.15
        gate_of = np.where(away, rng.choice(city.gates, size=n, p=weights), home[who])
        roll = rng.random(n)
        temperature = np.round(36.0 + rng.random(n) * 1.2, 1)
        outward = rng.random(n) < 0.5
        hashes = os.urandom(32 * n).hex()
        names = rng.integers(0, len(NAMES), size=n)
        for i in range(n):
            g = int(gate_of[i])
            r = roll[i]
            temp: float | None = float(temperature[i])
            if r < 0.015:
                colour, verdict, reasons = "red", "refuse", '["red code"]'
            elif r < 0.02:
                colour, verdict, reasons = "red", "refuse", '["on HQ\'s red list (code shows green)"]'
            elif r < 0.045:
                colour, verdict, reasons = "yellow", "hold", '["yellow code"]'
            elif r < 0.06:
                temp = round(37.3 + (r - 0.045) * 100, 1)
                colour, verdict = "green", "refuse"
                reasons = f'["temperature {temp:.1f} °C (limit below 37.3 °C)"]'
            elif r < 0.07:
                colour, verdict, reasons = "green", "refuse", '["not a resident and no valid pass from HQ"]'
            elif r < 0.075:
                colour, verdict, reasons = "green", "refuse", '["negative test is 80 h old (limit 72 h)"]'
            elif r < 0.08:
                colour, verdict, reasons, temp = "green", "hold", '["temperature not taken"]', None
            else:
                colour, verdict, reasons = "green", "pass", '["green code", "resident"]'
            seqs[g] += 1
            digest = hashes[64 * i : 64 * i + 64]
            pending.append((
                ids[i], gate_ids[g], seqs[g], ts[i], "out" if outward[i] else "in", subjects[who[i]],
                NAMES[names[i]], "PGC1", colour, verdict, reasons, temp, "keeper-1", "{}", last_hash[g], digest,
                received[i],
            ))
            last_hash[g] = digest
            if len(pending) >= CHUNK:
                yield pending
                pending = []
    if pending:
        yield pending


def _progress(done: int, total: int, started: float) -> None:
    rate = done / max(time.perf_counter() - started, 1e-9)
    say(f"  {done:>12,} / {total:,} entries  {rate:,.0f}/s  eta {(total - done) / max(rate, 1):,.0f} s")


def _entry_indexes() -> list[Index]:
    """The entries table's secondary indexes from HQ's schema (sync/hq/tables.py), built after the load."""
    return list(entries.indexes)


def _tuple_order() -> list[str]:
    return ["id", "gate", "seq", "ts", "direction", "subject", "name", "code_type", "colour", "verdict", "reasons",
            "temperature", "operator", "details", "prev_hash", "hash", "received_at"]


def load(db: HqDatabase, url: str, city: City, subjects: list[str]) -> dict[str, float]:
    """Bulk-load the city into an empty, migrated HQ database; returns the phases' seconds."""
    times: dict[str, float] = {}
    order = _tuple_order()
    with db.begin() as conn:
        conn.execute(gates.insert(), [
            {"gate_id": g, "token_hash": secrets.token_hex(32), "created_at": utc_text(city.now - timedelta(days=60)),
             "chain_seq": 0, "chain_hash": "0" * 64} for g in city.gate_ids
        ])
        for index in _entry_indexes():
            index.drop(conn)
    started = time.perf_counter()
    done = 0
    if db.dialect == "sqlite":
        path = url
        raw = sqlite3.connect(path)
        raw.execute("PRAGMA synchronous=OFF")
        raw.execute("PRAGMA cache_size=-2000000")
        raw.execute("BEGIN")
        statement = f"INSERT INTO entries ({', '.join(order)}) VALUES ({', '.join('?' * len(order))})"
        for chunk in generate(city, subjects):
            raw.executemany(statement, chunk)
            done += len(chunk)
            _progress(done, city.entries, started)
        raw.execute("COMMIT")
        raw.close()
    else:
        with psycopg.connect(url) as pg:
            pg.execute("SET synchronous_commit = off")
            with pg.cursor() as cursor, cursor.copy(f"COPY entries ({', '.join(order)}) FROM STDIN") as copy:
                for chunk in generate(city, subjects):
                    copy.write("".join(
                        "\t".join("\\N" if v is None else str(v) for v in row) + "\n" for row in chunk
                    ))
                    done += len(chunk)
                    _progress(done, city.entries, started)
    times["insert"] = time.perf_counter() - started
    say(f"  inserted in {times['insert']:.0f} s; building indexes")
    started = time.perf_counter()
    with db.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("SET maintenance_work_mem = '1GB'"))
        else:
            conn.execute(text("PRAGMA cache_size=-1000000"))
        for index in _entry_indexes():
            t0 = time.perf_counter()
            index.create(conn)
            say(f"  index {index.name}: {time.perf_counter() - t0:.0f} s")
    times["indexes"] = time.perf_counter() - started
    started = time.perf_counter()
    with db.begin() as conn:
        stats.rebuild(conn)
        last = conn.execute(select(entries.c.gate, func.max(entries.c.seq), func.max(entries.c.ts)).group_by(entries.c.gate)).all()
        for gate, seq, ts in last:
            conn.execute(gates.update().where(gates.c.gate_id == gate).values(
                chain_seq=seq, last_seen_at=ts, last_upload_at=ts))
        stale = city.gate_ids[-max(1, city.gates // 50):]
        conn.execute(gates.update().where(gates.c.gate_id.in_(stale)).values(
            last_seen_at=utc_text(city.now - timedelta(hours=5))))
        conn.execute(alerts.insert(), [
            {"gate": g, "seq": 100 + i, "kind": "gap", "detail": f"entries {100 + i}..{101 + i} are missing",
             "created_at": utc_text(city.now - timedelta(hours=i))} for i, g in enumerate(city.gate_ids[:20])
        ])
    times["stats"] = time.perf_counter() - started
    say(f"  statistics rebuilt in {times['stats']:.0f} s; analysing")
    started = time.perf_counter()
    if db.dialect == "postgresql":
        with psycopg.connect(url, autocommit=True) as pg:
            pg.execute("VACUUM ANALYZE")
    else:
        raw = sqlite3.connect(url)
        raw.execute("ANALYZE")
        raw.close()
    times["analyze"] = time.perf_counter() - started
    return times


# -- measuring -----------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(db_url: str, folder: Path) -> Iterator[str]:
    port = _free_port()
    env = os.environ | {"POCKET_HQ_RETENTION_DAYS": "3650", "POCKET_HQ_TIMEZONE": "UTC"}
    process = subprocess.Popen(
        [str(HQ_BIN), "serve", "--db", db_url, "--signing-key", str(folder / "signing.pem"), "--district-key",
         str(folder / "district.key"), "--port", str(port), "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    try:
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"HQ did not start: {process.stderr.read().decode() if process.stderr else ''}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def sign_in(url: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=300)
    form = client.get("/login").text
    token = re.search(r'name="login_token" value="([^"]+)"', form)
    assert token
    answer = client.post("/login", data={"username": username, "password": PASSWORD, "login_token": token.group(1)})
    assert answer.status_code == 303, answer.text[:300]
    return client


@dataclass
class Timing:
    name: str
    cold: float
    warm: float
    detail: str = ""


def timed(fn: Callable[[], Any], repeats: int = 5) -> tuple[float, float, Any]:
    t0 = time.perf_counter()
    result = fn()
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        warm.append(time.perf_counter() - t0)
    return cold, statistics.median(warm), result


def _get(client: httpx.Client, path: str, params: dict[str, str] | None = None) -> httpx.Response:
    answer = client.get(path, params=params)
    assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    return answer


def _next_link(html: str) -> str | None:
    found = re.search(r'rel="next" href="\?([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def measure(url: str, db: HqDatabase, city: City, index_person: int, busy_gate: str) -> list[Timing]:
    results: list[Timing] = []
    client = sign_in(url, "bench")
    window = {"from": (city.now - timedelta(days=14)).strftime("%Y-%m-%dT%H:%M"),
              "to": (city.now + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")}
    day = {"from": city.now.replace(hour=0, minute=0).strftime("%Y-%m-%dT%H:%M"), "to": window["to"]}
    subject = subject_hash(load_district_key(OUT / "keys" / "district.key"), id_number(index_person))

    def page(name: str, path: str, params: dict[str, str] | None = None, detail: str = "") -> str:
        cold, warm, answer = timed(lambda: _get(client, path, params))
        results.append(Timing(name, cold, warm, detail))
        return str(answer.text)

    page("overview page", "/", detail=f"{city.gates} gates, 50 a page")
    page("overview, stale gates only", "/", {"show": "stale"})
    page(f"gate page ({busy_gate})", f"/gates/{busy_gate}")
    html = page("person: passages, 14 days", "/trace/person", {"subject": subject, **window})
    total = re.search(r'id="total">(\d+)<', html)
    results[-1].detail = f"{total.group(1) if total else '?'} passages"
    html = page(f"gate: who passed {busy_gate} today", "/trace/gate", {"gate": busy_gate, **day})
    total = re.search(r'id="total">(\d+)<', html)
    results[-1].detail = f"{total.group(1) if total else '?'} passages"
    html = page(f"gate: {busy_gate}, 14 days", "/trace/gate", {"gate": busy_gate, **window})
    total = re.search(r'id="total">(\d+)<', html)
    results[-1].detail = f"{total.group(1) if total else '?'} passages"
    link = _next_link(html)
    for _ in range(3):
        if link:
            html = _get(client, "/trace/gate?" + link).text
            link = _next_link(html)
    if link:
        cold, warm, _ = timed(lambda: _get(client, "/trace/gate?" + link))
        results.append(Timing(f"gate: {busy_gate}, 14 days, page 5", cold, warm))
    html = page("contacts: within 15 min, 14 days", "/trace/contacts", {"subject": subject, "minutes": "15", **window})
    total = re.search(r'id="total">(\d+)<', html)
    people = re.search(r'id="people">(\d+)<', html)
    results[-1].detail = f"{total.group(1) if total else '?'} passages by {people.group(1) if people else '?'} people"
    page("contacts: within 60 min, 14 days", "/trace/contacts", {"subject": subject, "minutes": "60", **window})
    for name, path, params in [
        ("CSV: person", "/trace/person.csv", {"subject": subject, **window}),
        ("CSV: gate today", "/trace/gate.csv", {"gate": busy_gate, **day}),
        ("CSV: contacts 15 min", "/trace/contacts.csv", {"subject": subject, "minutes": "15", **window}),
    ]:
        t0 = time.perf_counter()
        answer = _get(client, path, params)
        elapsed = time.perf_counter() - t0
        rows = max(answer.text.count("\n") - 1, 0)
        results.append(Timing(name, elapsed, elapsed, f"{rows:,} rows, {len(answer.content) / 1e6:.1f} MB"))
    client.close()

    # The database's share: the same queries without HTTP or templates.
    start, end = city.now - timedelta(days=14), city.now + timedelta(minutes=1)
    w = tracing.Window(start, end)
    today = tracing.Window(city.now.replace(hour=0, minute=0, second=0, microsecond=0), end)

    def query(result: tracing.Result, people: bool = False) -> Callable[[], Any]:
        def run() -> Any:
            with db.read() as conn:
                return (result.summary(conn) if people else result.count(conn)), result.page(conn)
        return run

    def contacts(minutes: int) -> Callable[[], Any]:
        def run() -> Any:
            with db.read() as conn:
                plan = tracing.plan_contacts(conn, subject, w, minutes)
                result = tracing.contacts(plan)
                return result.summary(conn), result.page(conn)
        return run

    for name, fn in [
        ("query: person, 14 days", query(tracing.person(subject, w))),
        ("query: gate today", query(tracing.gate(busy_gate, today), people=True)),
        ("query: gate 14 days", query(tracing.gate(busy_gate, w), people=True)),
        ("query: contacts 15 min", contacts(15)),
        ("query: contacts 60 min", contacts(60)),
    ]:
        cold, warm, _ = timed(fn)
        results.append(Timing(name, cold, warm, "count (and people) + first page"))
    return results


def upload_list(url: str, rows: int, folder: Path) -> list[Timing]:
    """A red/yellow list of `rows` people through the dashboard: upload, check and preview, apply."""
    path = folder / f"red-list-{rows}.csv"
    if not path.exists():
        with path.open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["id_number", "colour", "note"])
            for i in range(rows):
                writer.writerow([id_number(i), "red" if i % 3 else "yellow", f"case {i}"])
    client = sign_in(url, "bench")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/lists").text)
    assert token
    results = []
    t0 = time.perf_counter()
    with path.open("rb") as handle:
        answer = client.post("/admin/lists", data={"csrf_token": token.group(1), "kind": "colour"},
                             files={"file": (path.name, handle, "text/csv")})
    assert answer.status_code == 303, answer.text[:300]
    results.append(Timing("list: upload", time.perf_counter() - t0, 0, f"{rows:,} rows, {path.stat().st_size / 1e6:.0f} MB"))
    preview = answer.headers["location"]
    while True:
        html = client.get(preview).text
        if "checking" not in html.split('id="state"')[1][:200]:
            break
        time.sleep(0.5)
    counts = {n: re.search(rf'id="n-{n}">(\d+)<', html) for n in ("added", "changed", "removed", "unchanged")}
    summary = ", ".join(f"{m.group(1)} {n}" for n, m in counts.items() if m) or "FAILED: " + re.sub("<[^>]+>", "", html)[-200:]
    results.append(Timing("list: checked and previewed", time.perf_counter() - t0, 0, summary))
    t1 = time.perf_counter()
    answer = client.post(preview + "/apply", data={"csrf_token": token.group(1)})
    results.append(Timing("list: applied", time.perf_counter() - t1, 0, f"HTTP {answer.status_code}"))
    client.close()
    return results


# -- the run -------------------------------------------------------------------------------------------------


def prepare_keys() -> None:
    (OUT / "keys").mkdir(parents=True, exist_ok=True)
    if not (OUT / "keys" / "district.key").exists():
        create_district_key(OUT / "keys" / "district.key")
    if not (OUT / "keys" / "signing.pem").exists():
        create_signing_key(OUT / "keys" / "signing.pem")


def database_for(backend: str, city: City, reuse: bool) -> tuple[str, bool]:
    """The database URL, and whether it still needs loading."""
    name = f"hq_bench_{city.entries}"
    if backend == "sqlite":
        path = OUT / f"{name}.db"
        if not reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return str(path), not path.exists()
    base = POSTGRES_URL.rsplit("/", 1)[0]
    if not reuse:
        drop_database(POSTGRES_URL, name)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}", not exists


def postgres_problem() -> str | None:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__


def migrate(db: HqDatabase, action: Callable[[Config, str], None], revision: str) -> None:
    """An alembic command on HQ's migrations (as `HqDatabase.upgrade` runs them)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.begin() as conn:
        config.attributes["connection"] = conn
        action(config, revision)


def unpartition(db: HqDatabase) -> None:
    """Give the fresh database the entries table as it was before migration 0008 (unpartitioned), marked as the
    newest schema so that `pocket-hq serve` keeps it as it is."""
    migrate(db, command.downgrade, "0007")
    migrate(db, command.stamp, "head")


def make_months(db: HqDatabase, city: City) -> None:
    """The month partitions the city's entries fall in (HQ makes them ahead; these go back to the oldest)."""
    month = partitions.Month.of(city.now - timedelta(days=city.days))
    with db.begin() as conn:
        held = set(partitions.months(conn))
        while month <= partitions.Month.of(city.now):
            if month not in held:
                partitions.make_month(conn, month)
            month = month.plus(1)


def vacuum(url: str) -> float:
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def move_over(db: HqDatabase, url: str) -> None:
    """HQ's migration 0008 on the loaded, unpartitioned table, timed, then a VACUUM as autovacuum would do."""
    migrate(db, command.stamp, "0007")
    say("\n  moving the entries over to monthly partitions (HQ's migration 0008)")
    started = time.perf_counter()
    db.upgrade()
    moved = time.perf_counter() - started
    say(f"  moved over in {moved:.0f} s (HQ's upgrade, one transaction); VACUUM ANALYZE {vacuum(url):.0f} s")


def run(backend: str, city: City, reuse: bool, list_rows: int, layout: str) -> dict[str, list[Timing]]:
    """Load (unless reused) and measure one database; its timings by the entries table's layout."""
    say(f"\n== {backend}: {city.entries:,} entries, {city.gates} gates, {city.people:,} people, {city.days} days")
    url, fresh = database_for(backend, city, reuse)
    db = HqDatabase(url)
    db.upgrade()
    if backend == "postgresql" and fresh and layout != "partitioned":
        unpartition(db)
    key = load_district_key(OUT / "keys" / "district.key")
    if fresh or not reuse:
        subjects = [subject_hash(key, id_number(p)) for p in range(city.people)]
        with db.read() as conn:
            held = conn.execute(select(func.count()).select_from(entries)).scalar_one()
        if held:
            raise SystemExit(f"{url} already holds {held} entries; drop it or use --reuse")
        if backend == "postgresql" and layout == "partitioned":
            make_months(db, city)
        t0 = time.perf_counter()
        phases = load(db, url.removeprefix("sqlite:///") if backend == "sqlite" else url, city, subjects)
        say(f"  loaded in {time.perf_counter() - t0:.0f} s: " + ", ".join(f"{k} {v:.0f} s" for k, v in phases.items()))
        with db.begin() as conn:
            conn.execute(text("DELETE FROM staff_users WHERE username = 'bench'"))
        add_user(db, "bench", PASSWORD, Role.ADMIN)
    if backend == "sqlite":
        say(f"  database file: {Path(url).stat().st_size / 1e9:.1f} GB")
    measured: dict[str, list[Timing]] = {}
    while True:
        with db.read() as conn:
            partitioned = partitions.is_partitioned(conn)
        label = backend if backend == "sqlite" else f"{backend}, {'by month' if partitioned else 'one table'}"
        say(f"\n  -- {label}")
        measured[label] = measure_served(url, db, city, list_rows)
        print_timings(measured[label])
        if partitioned or layout != "both" or backend != "postgresql":
            break
        move_over(db, url)
    db.dispose()
    return measured


def measure_served(url: str, db: HqDatabase, city: City, list_rows: int) -> list[Timing]:
    """`measure` (and the list upload, when asked) against `pocket-hq serve` on this database."""
    busy_gate = city.gate_ids[0]  # the busiest: gate sizes fall off as 1/rank^0.8
    index_person = 12345 % city.people
    with serve(url, OUT / "keys") as base:
        results = measure(base, db, city, index_person, busy_gate)
        if list_rows:
            results += upload_list(base, list_rows, OUT)
    return results


def print_timings(results: list[Timing]) -> None:
    width = max(len(r.name) for r in results)
    say(f"\n  {'what':<{width}}  {'cold':>8}  {'warm':>8}  detail")
    for r in results:
        flag = "" if r.name.startswith(("CSV", "list")) else ("  OVER 1 s" if r.warm >= 1 else "")
        warm = f"{r.warm * 1000:7.0f}ms" if r.warm else "        "
        say(f"  {r.name:<{width}}  {r.cold * 1000:7.0f}ms  {warm}  {r.detail}{flag}")


def side_by_side(measured: dict[str, list[Timing]]) -> None:
    """Warm times (cold in brackets) of each query and page, a column per database and layout."""
    labels = list(measured)
    names = [r.name for r in measured[labels[0]] if not r.name.startswith("list")]
    width = max(len(n) for n in names)
    say(f"\n== side by side: warm ms (cold ms)\n  {'what':<{width}}" + "".join(f"  {label:>24}" for label in labels))
    for name in names:
        cells = []
        for label in labels:
            found = next((r for r in measured[label] if r.name == name), None)
            cells.append(f"{found.warm * 1000:,.0f} ({found.cold * 1000:,.0f})" if found else "-")
        say(f"  {name:<{width}}" + "".join(f"  {cell:>24}" for cell in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=10_000_000, help="entries to load (default 10 million)")
    parser.add_argument("--gates", type=int, default=500, help="gates in the district")
    parser.add_argument("--people", type=int, default=200_000, help="people who pass them")
    parser.add_argument("--days", type=int, default=28, help="days the entries span (the retention period)")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--layout", choices=["partitioned", "plain", "both"], default="both",
                        help="PostgreSQL's entries table: partitioned by month (HQ's), unpartitioned (as before), or "
                             "both (loaded unpartitioned, measured, moved over by HQ's migration, measured again)")
    parser.add_argument("--reuse", action="store_true", help="measure on the database a previous run loaded")
    parser.add_argument("--list-rows", type=int, default=0, help="also upload a red/yellow list of this many rows")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    prepare_keys()
    now = datetime.now(UTC).replace(microsecond=0)
    if args.reuse:
        stamp = OUT / f"hq_bench_{args.entries}.now"
        if stamp.exists():
            now = datetime.fromisoformat(stamp.read_text().strip())
    city = City(args.entries, args.gates, args.people, args.days, now)
    (OUT / f"hq_bench_{args.entries}.now").write_text(now.isoformat())
    backends = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    measured: dict[str, list[Timing]] = {}
    for backend in backends:
        if backend == "postgresql" and (problem := postgres_problem()):
            say(f"\n== postgresql: skipped, none reachable at {POSTGRES_URL} ({problem})")
            continue
        measured |= run(backend, city, args.reuse, args.list_rows, args.layout)
    if len(measured) > 1:
        side_by_side(measured)


if __name__ == "__main__":
    main()
