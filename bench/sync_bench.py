"""Sync benchmark: prints figures, asserts nothing (targets are in shared/DESIGN.md).

1. Backlog: a gate that was offline for a week (100,000 entries) uploads to a local HQ with the real
   SyncService; seconds end to end (target <= 30 s).
2. HQ ingest rate: the same entries fed to HQ's ingest function directly, in batches of 1,000 (entries/s).
3. Many gates at once: 1,000 simulated gates, each on its own connection, all upload a batch and fetch their
   bundle at the same moment, retrying a dropped connection as the real client does; retries, errors, lost
   or doubled entries, alerts, and request times (p50/p99, per attempt).
4. Propagation: 200 gates hold their wait for a new bundle open (`/v1/gates/{gate}/bundle/wait`, as the kiosk's
   sync service does); a red/yellow list is applied at HQ from another process; seconds until each gate has
   fetched the new bundle (p50, p99, max; target p99 under 5 s) and HQ's resident memory with the connections
   held.

HQ runs as a separate `pocket-hq serve` process on 127.0.0.1, as it would in production. Each figure is given
for SQLite and, when one is reachable at $POCKET_HQ_TEST_POSTGRES, for PostgreSQL, side by side; the figures that
cross the wire (1, 3 and 4) over plain HTTP and over HTTPS (a `pocket-hq tls init` certificate, pinned by the gate as
enrolment pins it), side by side.

With `--workers 1,2,4`, only the third part runs, on PostgreSQL, once per number of HQ processes (`pocket-hq
serve --workers N`, rate limits counted in the database as a city's are), with 5,000 gates unless `--gates` says
otherwise: the ingest rate (entries stored per second of the stampede), request times, lost and doubled entries
per worker count and wire (`--wire`: plain HTTP and HTTPS by default), with the machine's core count (the gates'
client runs on the same cores).

    .venv/bin/python bench/sync_bench.py [--backlog 100000] [--gates 1000] [--per-gate 20] [--listening 200]
        [--wire http,https]
    .venv/bin/python bench/sync_bench.py --workers 1,2,4 [--gates 5000] [--wire http,https]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import stamina
from sqlalchemy import func, select
from ulid import ULID

from sync.core.chain import GENESIS_HASH, entry_hash
from kiosk.config import load_config
from kiosk.store import GateStore
from sync.core.clock import utc_text
from sync.core.bundle import create_signing_key
from kiosk.uplink.client import SyncService
from kiosk.uplink.enrollment import enroll
from sync.hq import lists
from kiosk.uplink.tls import pinned_context
from sync.hq.db import HqDatabase
from sync.hq.tables import alerts, entries, hq_processes
from sync.hq.gates import add_gate
from sync.hq.ingest import ingest
from sync.hq.tls import create_self_signed
from sync.core.protocol import UploadBatch, WireEntry

from scratch_postgres import drop_database  # bench/, beside this script

POSTGRES_URL = os.environ.get("POCKET_HQ_TEST_POSTGRES", "postgresql://pocket:pocket@127.0.0.1:5432/postgres")
HQ_BIN = Path(sys.executable).with_name("pocket-hq")
SYNCS = 4
"""Syncs a simulated gate makes, at most, when one fails (a real gate syncs again a minute later)."""


def chained_rows(gate: str, count: int, start: datetime) -> Iterator[dict[str, Any]]:
    """Entries exactly as GateStore.record writes them (same fields, ids and hash chain), made without a
    commit per entry so that a week's backlog takes seconds to build."""
    prev = GENESIS_HASH
    for seq in range(1, count + 1):
        moment = start + timedelta(seconds=6 * seq)
        row: dict[str, Any] = {
            "id": str(ULID.from_datetime(moment)),
            "seq": seq,
            "ts": utc_text(moment),
            "gate": gate,
            "direction": "in" if seq % 2 else "out",
            "subject": f"{seq % 5000:032x}",
            "name": "Z**** S**",
            "code_type": "PGC1",
            "colour": "green",
            "verdict": "pass",
            "reasons": json.dumps(["green code", "resident"]),
            "temperature": 36.5,
            "operator": "keeper-1",
            "details": "{}",
            "prev_hash": prev,
        }
        row["hash"] = prev = entry_hash(row)
        yield row


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Wire:
    """How gates reach HQ in a run: plain HTTP, or HTTPS with HQ's self-signed certificate (`tls init`)."""

    def __init__(self, name: str, work: Path) -> None:
        self.name = name
        self.cert: Path | None = None
        self.fingerprint: str | None = None
        if name == "https":
            self.cert, key = work / "hq-tls.crt", work / "hq-tls.key"
            self.fingerprint = create_self_signed(self.cert, key, ["127.0.0.1"])
            self.serve_args = ["--tls-cert", str(self.cert), "--tls-key", str(key)]
        else:
            self.serve_args = []

    def context(self) -> ssl.SSLContext:
        """What a gate checks HQ with: the pinned certificate over HTTPS (a default context over HTTP, unused)."""
        return pinned_context(self.cert.read_bytes()) if self.cert else ssl.create_default_context()


@contextmanager
def hq_process(db: str, key: Path, work: Path, wire: Wire, workers: int = 1) -> Iterator[str]:
    """`pocket-hq serve` in its own process (with `workers` HQ processes); yields its URL."""
    with hq_server(db, key, work, wire, workers) as (url, _pid):
        yield url


@contextmanager
def hq_server(db: str, key: Path, work: Path, wire: Wire, workers: int = 1) -> Iterator[tuple[str, int]]:
    """`pocket-hq serve` in its own process (with `workers` HQ processes); yields its URL and process id. Several
    workers share PostgreSQL's connections (80 of its 100 by default, the rest left to the bench and psql)."""
    port = free_port()
    log = (work / f"hq-{port}.log").open("w")
    env = os.environ | {"POCKET_HQ_DB_CONNECTIONS": str(max(2, 80 // workers))}
    process = subprocess.Popen(
        [str(HQ_BIN), "serve", "--db", db, "--signing-key", str(key), "--port", str(port), "--log-level", "warning",
         "--rate-limit", "100000/minute", "--workers", str(workers), *wire.serve_args],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"{wire.name}://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # several workers, each migrating and starting, on a loaded machine
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1, verify=wire.context()).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError(f"HQ did not start: {Path(log.name).read_text()[-2000:]}")
            time.sleep(0.1)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@contextmanager
def database(backend: str, work: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield str(work / f"hq-{secrets.token_hex(4)}.db")
        return
    name = f"pocket_bench_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_URL.rpartition('/')[0]}/{name}"
    finally:
        drop_database(POSTGRES_URL, name)


def backlog_upload(backend: str, count: int, key: Path, work: Path, wire: Wire) -> dict[str, float]:
    """Seconds for SyncService to upload `count` waiting entries to a fresh HQ (enrolled as README says: over
    HTTPS, HQ's certificate pinned)."""
    with database(backend, work) as db:
        hq_db = HqDatabase(db)
        hq_db.upgrade()
        token = add_gate(hq_db, "busy-gate")
        folder = work / f"gate-{backend}-{wire.name}"
        folder.mkdir()
        with GateStore(folder / "gate.db", "busy-gate") as store, store.transaction() as conn:
            conn["entries"].insert_all(chained_rows("busy-gate", count, datetime.now(UTC) - timedelta(days=7)), batch_size=5000)
        with hq_process(db, key, work, wire) as url:
            (folder / "kiosk.toml").write_text('gate_id = "busy-gate"\ndatabase = "gate.db"\n')
            enroll(folder / "kiosk.toml", url, token, expected_certificate=wire.fingerprint)
            service = SyncService(load_config(folder / "kiosk.toml"))
            started = time.perf_counter()
            status = service.run_once()
            seconds = time.perf_counter() - started
            service.close()
        with hq_db.read() as conn:
            held = conn.execute(select(func.count()).select_from(entries)).scalar_one()
            flagged = conn.execute(select(func.count()).select_from(alerts)).scalar_one()
        hq_db.dispose()
    ok = status.online and status.entries_waiting == 0 and held == count and flagged == 0
    return {"seconds": seconds, "rate": count / seconds, "ok": float(ok)}


def ingest_rate(backend: str, count: int, work: Path) -> float:
    """Entries per second through HQ's ingest function alone (no HTTP), batches of 1,000."""
    rows = [WireEntry.model_validate(r) for r in chained_rows("g", count, datetime.now(UTC) - timedelta(days=7))]
    with database(backend, work) as db:
        hq_db = HqDatabase(db)
        hq_db.upgrade()
        add_gate(hq_db, "g")
        started = time.perf_counter()
        for first in range(0, count, 1000):
            ingest(hq_db, "g", UploadBatch(gate="g", batch_id=f"b{first}", entries=rows[first : first + 1000]))
        seconds = time.perf_counter() - started
        hq_db.dispose()
    return count / seconds


async def _one_gate(
    url: str, gate: str, token: str, body: bytes, times: list[float], retries: list[str], resyncs: list[str],
    tls: ssl.SSLContext,
) -> tuple[int, int]:
    """One gate's sync as the real client does it: its own connection, an upload, then its bundle, each
    retried on a dropped connection as HqClient does (both are idempotent). A sync that still fails is made
    again after a pause, at most `SYNCS` times in all, as the gate's next sync would: its entries wait at the
    gate meanwhile, so only what HQ never takes is lost."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    outcome: tuple[int, int] = (0, 0)
    for sync in range(SYNCS):
        if sync:
            resyncs.append(gate)
            await asyncio.sleep(sync)
        try:
            async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120, verify=tls) as client:

                async def timed(method: str, path: str, **kwargs: Any) -> httpx.Response:
                    async for attempt in stamina.retry_context(on=httpx.TransportError, attempts=3, wait_initial=0.1):
                        with attempt:
                            if attempt.num > 1:
                                retries.append(f"{method} {path.rsplit('/', 1)[-1]}")
                            started = time.perf_counter()
                            response = await client.request(method, path, **kwargs)
                            times.append(time.perf_counter() - started)
                    return response

                upload = await timed("POST", f"/v1/gates/{gate}/entries", content=body)
                bundle = await timed("GET", f"/v1/gates/{gate}/bundle")
                outcome = (upload.status_code, bundle.status_code)
        except httpx.TransportError:
            if sync == SYNCS - 1:
                raise
            continue
        if outcome == (200, 200):
            break
    return outcome


async def _stampede(
    url: str, gates: dict[str, tuple[str, bytes]], tls: ssl.SSLContext
) -> tuple[list[tuple[int, int] | BaseException], list[float], list[str], list[str], float]:
    """`tls` is made once: loading certificates per client would dominate the run (a real gate makes its own)."""
    times: list[float] = []
    retries: list[str] = []
    resyncs: list[str] = []
    started = time.perf_counter()
    results = await asyncio.gather(
        *(_one_gate(url, gate, token, body, times, retries, resyncs, tls) for gate, (token, body) in gates.items()),
        return_exceptions=True,
    )
    return results, times, retries, resyncs, time.perf_counter() - started


def many_gates(
    backend: str, gate_count: int, per_gate: int, key: Path, work: Path, wire: Wire, workers: int = 1
) -> dict[str, float]:
    with database(backend, work) as db:
        hq_db = HqDatabase(db)
        hq_db.upgrade()
        start = datetime.now(UTC) - timedelta(hours=2)
        gates: dict[str, tuple[str, bytes]] = {}
        for n in range(gate_count):
            gate = f"gate-{n:04d}"
            rows = [WireEntry.model_validate(r) for r in chained_rows(gate, per_gate, start)]
            body = UploadBatch(gate=gate, batch_id="first", entries=rows).model_dump_json().encode()
            gates[gate] = (add_gate(hq_db, gate), body)
        with hq_process(db, key, work, wire, workers) as url:
            results, times, retries, resyncs, wall = asyncio.run(_stampede(url, gates, wire.context()))
        with hq_db.read() as conn:
            held = conn.execute(select(func.count()).select_from(entries)).scalar_one()
            distinct = conn.execute(select(func.count(func.distinct(entries.c.id)))).scalar_one()
            per = conn.execute(select(entries.c.gate, func.count()).group_by(entries.c.gate)).all()
            flagged = conn.execute(select(func.count()).select_from(alerts)).scalar_one()
            processes = conn.execute(select(func.count()).select_from(hq_processes)).scalar_one()
        hq_db.dispose()
    if processes > workers:
        print(f"  {backend} {wire.name}: {processes - workers} HQ worker(s) started again by uvicorn (not answering "
              "its health check in time, or dead)")
    if resyncs:
        print(f"  {backend} {wire.name}: {len(set(resyncs))} gates synced again after a failed sync ({len(resyncs)} syncs)")
    if retries:
        print(f"  {backend} {wire.name}: retried after a dropped connection: " + ", ".join(f"{n} x {what}" for what, n in Counter(retries).items()))
    failures = [r for r in results if isinstance(r, BaseException) or r != (200, 200)]
    for failure in sorted({repr(f) for f in failures})[:5]:
        print(f"  {backend} {wire.name}: failed gate: {failure}")
    errors = len(failures)
    expected = gate_count * per_gate
    lost = expected - held
    uneven = sum(1 for _, n in per if n != per_gate) + (gate_count - len(per))
    times.sort()
    return {
        "retried": len(retries),
        "resynced": len(set(resyncs)),
        "restarted": max(processes - workers, 0),
        "errors": errors,
        "lost": lost,
        "doubled": held - distinct,
        "uneven_gates": uneven,
        "alerts": flagged,
        "p50_ms": statistics.median(times) * 1000,
        "p99_ms": times[int(len(times) * 0.99) - 1] * 1000,
        "max_ms": times[-1] * 1000,
        "wall_s": wall,
        "ingest_rate": held / wall,
    }


def rss_mb(pid: int) -> float:
    """A process's resident memory in MB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _listen(
    url: str, gate: str, token: str, tls: ssl.SSLContext, ready: asyncio.Event, waiting: list[str],
    fetched: dict[str, float],
) -> None:
    """One gate as the kiosk's `SyncService.listen` is: its wait held open at HQ, asked again when it ends with
    nothing new; when told, it fetches its bundle (what it would then apply)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60, verify=tls) as client:
        have = 0
        while gate not in fetched:
            request = client.build_request("GET", f"/v1/gates/{gate}/bundle/wait", params={"after": have, "seconds": 25})
            waiting.append(gate)
            ready.set()
            notice = (await client.send(request)).json()
            if notice["version"] > have:
                bundle = await client.get(f"/v1/gates/{gate}/bundle", headers={"If-None-Match": f'"v{have}"'})
                bundle.raise_for_status()
                fetched[gate] = time.perf_counter()


async def _propagate(url: str, db: str, tokens: dict[str, str], pid: int, tls: ssl.SSLContext) -> dict[str, float]:
    ready, waiting, fetched = asyncio.Event(), [], {}
    idle = rss_mb(pid)
    tasks = [asyncio.create_task(_listen(url, g, t, tls, ready, waiting, fetched)) for g, t in tokens.items()]
    while len(waiting) < len(tokens):
        await asyncio.sleep(0.1)
    await asyncio.sleep(2)  # every request sent and held at HQ
    held = rss_mb(pid)
    hq_db = HqDatabase(db)
    started = time.perf_counter()
    await asyncio.to_thread(lists.replace_colour_list, hq_db, [{"subject": "ab" * 16, "colour": "red", "note": "bench"}])
    applied = time.perf_counter()
    deadline = applied + 60
    while len(fetched) < len(tokens) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    hq_db.dispose()
    delays = sorted(at - applied for at in fetched.values())
    return {
        "reached": len(fetched),
        "apply_s": applied - started,
        "p50_s": statistics.median(delays) if delays else float("nan"),
        "p99_s": delays[max(0, int(len(delays) * 0.99) - 1)] if delays else float("nan"),
        "max_s": delays[-1] if delays else float("nan"),
        "rss_idle_mb": idle,
        "rss_held_mb": held,
    }


def propagation(backend: str, gate_count: int, key: Path, work: Path, wire: Wire) -> dict[str, float]:
    with database(backend, work) as db:
        hq_db = HqDatabase(db)
        hq_db.upgrade()
        tokens = {f"gate-{n:04d}": add_gate(hq_db, f"gate-{n:04d}") for n in range(gate_count)}
        hq_db.dispose()
        with hq_server(db, key, work, wire) as (url, pid):
            return asyncio.run(_propagate(url, db, tokens, pid, wire.context()))


def postgres_reachable() -> str | None:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__


CITY_ROWS = [
    ("  ingest, entries stored per s", "ingest_rate", "{:14,.0f}"),
    ("  request p50 ms", "p50_ms", "{:14.0f}"),
    ("  request p99 ms", "p99_ms", "{:14.0f}"),
    ("  request max ms", "max_ms", "{:14.0f}"),
    ("  wall time s", "wall_s", "{:14.1f}"),
    ("  requests retried (dropped connection)", "retried", "{:14.0f}"),
    ("  gates that synced again", "resynced", "{:14.0f}"),
    ("  HQ workers started again by uvicorn", "restarted", "{:14.0f}"),
    ("  gates failed (after every sync)", "errors", "{:14.0f}"),
    ("  entries lost", "lost", "{:14.0f}"),
    ("  entries doubled", "doubled", "{:14.0f}"),
    ("  gates with a wrong count", "uneven_gates", "{:14.0f}"),
]


def city(worker_counts: list[int], gate_count: int, per_gate: int, wire_names: list[str]) -> None:
    """The stampede on PostgreSQL once per number of HQ processes (and per wire), side by side."""
    if problem := postgres_reachable():
        raise SystemExit(f"--workers needs PostgreSQL at {POSTGRES_URL}: {problem}")
    with tempfile.TemporaryDirectory(prefix="sync-bench-") as tmp:
        work = Path(tmp)
        key = work / "hq-signing.key.pem"
        create_signing_key(key)
        wire = {name: Wire(name, work) for name in wire_names}
        runs = [(workers, w) for workers in worker_counts for w in wire_names]
        print(f"{gate_count:,} gates at once on PostgreSQL (upload {per_gate} + bundle each), "
              f"{os.cpu_count()} CPU cores shared by HQ, PostgreSQL and the gates' client")
        crowd = {}
        for workers, w in runs:
            crowd[workers, w] = many_gates("postgresql", gate_count, per_gate, key, work, wire[w], workers)
            print(f"  {workers} worker(s), {w}: {crowd[workers, w]['ingest_rate']:,.0f} entries/s, "
                  f"p99 {crowd[workers, w]['p99_ms']:,.0f} ms", flush=True)
        print(f"\n{'HQ processes (--workers), wire':44}" + "".join(f"{f'{n} {w}':>14}" for n, w in runs))
        for label, name, fmt in CITY_ROWS:
            print(f"{label:44}" + "".join(fmt.format(crowd[r][name]) for r in runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backlog", type=int, default=100_000, help="entries waiting at the offline gate")
    parser.add_argument("--gates", type=int, help="simulated gates syncing at once (1,000; 5,000 with --workers)")
    parser.add_argument("--per-gate", type=int, default=20, help="entries each simulated gate uploads")
    parser.add_argument("--listening", type=int, default=200, help="gates waiting for a new bundle (propagation)")
    parser.add_argument("--only-propagation", action="store_true", help="measure propagation alone")
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL even when reachable")
    parser.add_argument("--wire", default="http,https", help="how gates reach HQ: http, https or both (the default)")
    parser.add_argument("--workers", help="HQ processes to compare on PostgreSQL, e.g. 1,2,4 (only the stampede runs)")
    args = parser.parse_args()
    wires = [name.strip() for name in args.wire.split(",")]
    if not wires or any(name not in ("http", "https") for name in wires):
        parser.error(f"--wire takes http, https or http,https, not {args.wire!r}")
    if args.workers:
        try:
            counts = [int(n) for n in args.workers.split(",")]
        except ValueError:
            parser.error(f"--workers {args.workers}: give numbers of processes, such as 1,2,4")
        city(counts, args.gates or 5000, args.per_gate, wires)
        return
    args.gates = args.gates or 1000

    backends = ["sqlite"]
    problem = "skipped by --sqlite-only" if args.sqlite_only else postgres_reachable()
    if problem is None:
        backends.append("postgresql")
    else:
        print(f"PostgreSQL: not measured ({problem})")
    with tempfile.TemporaryDirectory(prefix="sync-bench-") as tmp:
        work = Path(tmp)
        key = work / "hq-signing.key.pem"
        create_signing_key(key)
        wire = {name: Wire(name, work) for name in wires}
        runs = [(b, w) for b in backends for w in wires]
        print(f"\n{'':44}" + "".join(f"{f'{b} {w}':>18}" for b, w in runs))
        spread = {(b, w): propagation(b, args.listening, key, work, wire[w]) for b, w in runs}
        print(f"{f'a list applied, {args.listening} gates waiting':44}")
        for label, name, fmt in [
            ("  gates that fetched it", "reached", "{:18.0f}"),
            ("  time to every gate p50 s", "p50_s", "{:18.2f}"),
            ("  time to every gate p99 s", "p99_s", "{:18.2f}"),
            ("  time to every gate max s", "max_s", "{:18.2f}"),
            ("  HQ resident MB, idle", "rss_idle_mb", "{:18.0f}"),
            ("  HQ resident MB, connections held", "rss_held_mb", "{:18.0f}"),
        ]:
            print(f"{label:44}" + "".join(fmt.format(spread[r][name]) for r in runs)
                  + ("   (target p99 < 5 s)" if name == "p99_s" else ""))
        if args.only_propagation:
            return
        up = {(b, w): backlog_upload(b, args.backlog, key, work, wire[w]) for b, w in runs}
        print(f"{f'backlog of {args.backlog:,} entries: upload s':44}" + "".join(f"{up[r]['seconds']:18.1f}" for r in runs)
              + "   (target <= 30 s)")
        print(f"{'  end-to-end entries/s':44}" + "".join(f"{up[r]['rate']:18,.0f}" for r in runs))
        print(f"{'  all held once, no alerts':44}" + "".join(f"{'yes' if up[r]['ok'] else 'NO':>18}" for r in runs))
        rate = {b: ingest_rate(b, args.backlog, work) for b in backends}
        print(f"{'HQ ingest alone (no wire), entries/s':44}" + "".join(f"{rate[b]:18,.0f}" for b, _ in runs))
        crowd = {(b, w): many_gates(b, args.gates, args.per_gate, key, work, wire[w]) for b, w in runs}
        print(f"{f'{args.gates:,} gates at once (upload {args.per_gate} + bundle)':44}")
        for label, name, fmt in [
            ("  requests retried (dropped connection)", "retried", "{:18.0f}"),
            ("  gates that synced again", "resynced", "{:18.0f}"),
            ("  gates failed (after every sync)", "errors", "{:18.0f}"),
            ("  entries lost", "lost", "{:18.0f}"),
            ("  entries doubled", "doubled", "{:18.0f}"),
            ("  gates with a wrong count", "uneven_gates", "{:18.0f}"),
            ("  alerts", "alerts", "{:18.0f}"),
            ("  request p50 ms", "p50_ms", "{:18.0f}"),
            ("  request p99 ms", "p99_ms", "{:18.0f}"),
            ("  request max ms", "max_ms", "{:18.0f}"),
            ("  wall time s", "wall_s", "{:18.1f}"),
        ]:
            print(f"{label:44}" + "".join(fmt.format(crowd[r][name]) for r in runs))


if __name__ == "__main__":
    main()
