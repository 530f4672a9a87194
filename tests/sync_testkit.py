"""Test fixtures for sync: a real HQ (uvicorn on 127.0.0.1, SQLite or PostgreSQL), real gate folders with real
SQLite files enrolled through the real enrolment path, and a loopback proxy the test controls.

Import the fixtures a test module uses (`from tests.sync_testkit import hq, make_gate`): a fixture is found
where the test module names it.

PostgreSQL: tests that take `hq` (or `hq_db`) run once per backend. The PostgreSQL run needs a server reachable
at $POCKET_HQ_TEST_POSTGRES (default postgresql://pocket:pocket@127.0.0.1:5432/postgres, which .ci/run sets
up) with a role that may create databases; each test gets a database of its own, dropped afterwards. When
none is reachable those variants are skipped, with the reason, on a plain local run, and fail under CI or
when $POCKET_HQ_TEST_POSTGRES is set (see tests/parts.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any

import limits.storage.memory
import psycopg
import pytest
from sqlalchemy import func, select

from sync.core.codes.base import Colour
from sync.core.codes.keys import create_issuer_keys
from kiosk.config import KioskConfig, load_config
from sync.core.policy import Decision, Direction, Verdict
from kiosk.store import EntryDraft, GateStore
from sync.core.bundle import create_signing_key
from kiosk.uplink.client import SyncService
from kiosk.uplink.enrollment import enroll
from sync.hq.app import create_app
from sync.hq.db import HqDatabase
from sync.hq.tables import alerts, entries, gates, metadata
from sync.hq.gates import add_gate
from sync.hq.server import ServerThread, Tls
from sync.hq.settings import HqSettings
from tests.parts import missing_part

POSTGRES_URL = os.environ.get("POCKET_HQ_TEST_POSTGRES", "postgresql://pocket:pocket@127.0.0.1:5432/postgres")
BACKENDS = [pytest.param("sqlite", id="sqlite"), pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres)]


def _postgres_problem() -> str | None:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        return f"no PostgreSQL reachable at {POSTGRES_URL} ({first}); .ci/run starts one"


_POSTGRES_PROBLEM: list[str | None] = []


def _postgres_database() -> Iterator[str]:
    """A fresh, empty database on the test PostgreSQL, dropped afterwards."""
    if not _POSTGRES_PROBLEM:
        _POSTGRES_PROBLEM.append(_postgres_problem())
    if _POSTGRES_PROBLEM[0]:
        missing_part(_POSTGRES_PROBLEM[0])
    name = f"pocket_test_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = POSTGRES_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        _drop_database(name)


def _drop_database(name: str) -> None:
    """End the sessions this role left on the database, then drop it. Not `WITH (FORCE)`: that also has to end
    an autovacuum worker visiting the new database, which this role may not, and fails; a plain DROP has
    PostgreSQL stop the worker itself (waiting a few seconds at most)."""
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
            " WHERE datname = %s AND usename = current_user AND pid <> pg_backend_pid()",
            [name],
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture(scope="session")
def issuer_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An issuer keys folder (private key, trust/, district.key), as `pocket-hq keys init` makes."""
    folder = tmp_path_factory.mktemp("issuer") / "keys"
    create_issuer_keys(folder)
    return folder


@pytest.fixture(scope="session")
def signing_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hq-signing") / "hq-signing.key.pem"
    create_signing_key(path)
    return path


@pytest.fixture(params=BACKENDS)
def hq_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """HQ's database for one test: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield str(tmp_path / "hq.db")
    else:
        yield from _postgres_database()


@pytest.fixture
def hq_db(hq_db_url: str) -> Iterator[HqDatabase]:
    database = HqDatabase(hq_db_url)
    database.upgrade()
    yield database
    database.dispose()


@dataclass
class RunningHq:
    """A live HQ server and a second handle on its database for checking what it holds."""

    settings: HqSettings
    server: ServerThread
    db: HqDatabase

    @property
    def url(self) -> str:
        return self.server.url

    def add_gate(self, gate_id: str) -> str:
        return add_gate(self.db, gate_id)

    def entry_count(self, gate_id: str | None = None) -> int:
        query = select(func.count()).select_from(entries)
        if gate_id:
            query = query.where(entries.c.gate == gate_id)
        with self.db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def entry_ids(self, gate_id: str) -> list[str]:
        with self.db.read() as conn:
            return list(conn.execute(select(entries.c.id).where(entries.c.gate == gate_id).order_by(entries.c.seq)).scalars())

    def entry_rows(self, gate_id: str) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return [dict(r._mapping) for r in conn.execute(select(entries).where(entries.c.gate == gate_id).order_by(entries.c.seq))]

    def alert_kinds(self, gate_id: str) -> list[tuple[str, int]]:
        with self.db.read() as conn:
            rows = conn.execute(select(alerts.c.kind, alerts.c.seq).where(alerts.c.gate == gate_id).order_by(alerts.c.id))
            return [(r.kind, r.seq) for r in rows]

    def assert_holds_only_the_hash_of(self, gate_id: str, token: str) -> None:
        """HQ keeps the SHA-256 of a gate's token and the token itself nowhere: in no cell of any table, and
        on SQLite nowhere in the database's files either (free pages and the write-ahead log included)."""
        with self.db.read() as conn:
            held = conn.execute(select(gates.c.token_hash).where(gates.c.gate_id == gate_id)).scalar_one()
            assert held == hashlib.sha256(token.encode()).hexdigest()
            for table in metadata.sorted_tables:
                for row in conn.execute(select(table)):
                    assert not any(token in str(cell) for cell in row), f"HQ holds the token in table {table.name}"
        if self.db.dialect == "sqlite":
            database = Path(self.settings.db)
            for path in database.parent.glob(database.name + "*"):
                assert token.encode() not in path.read_bytes(), f"HQ holds the token in {path.name}"


def start_hq(
    db_url: str, signing_key: Path, clock: Callable[[], float] = time.time, **overrides: Any
) -> Iterator[RunningHq]:
    """A live HQ with these settings; its rate limits count by `clock` (see `LimitsClock`). With `tls_cert_file`
    and `tls_key_file` among them, it serves HTTPS."""
    settings = HqSettings(db=db_url, signing_key_file=signing_key, **overrides)
    app = create_app(settings, clock)
    tls = Tls(settings.tls_cert_file, settings.tls_key_file) if settings.tls_cert_file and settings.tls_key_file else None
    with ServerThread(app, tls=tls) as server:
        check = HqDatabase(db_url)
        try:
            yield RunningHq(settings, server, check)
        finally:
            check.dispose()


class LimitsClock:
    """Time for HQ's rate limits (gates' requests, staff sign-ins) in a test: it stands still until the test
    moves it on, so what a test sees never depends on how fast the machine runs it. Give it to HQ
    (`start_hq(..., clock=clock)`); the `limits` library, whose memory storage reads `time.time()` itself and
    takes no clock, reads this one too for the test (the `limits_clock` fixture)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def limits_clock(monkeypatch: pytest.MonkeyPatch) -> LimitsClock:
    clock = LimitsClock()
    monkeypatch.setattr(limits.storage.memory, "time", clock)
    return clock


@pytest.fixture
def hq(hq_db_url: str, signing_key_file: Path) -> Iterator[RunningHq]:
    """A live HQ on 127.0.0.1 (on each backend)."""
    yield from start_hq(hq_db_url, signing_key_file)


@pytest.fixture(scope="module", params=BACKENDS)
def shared_hq(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, signing_key_file: Path
) -> Iterator[RunningHq]:
    """One live HQ per test module and backend, for tests that enrol a gate of their own for each of many
    examples (property-based tests) instead of paying for a new HQ each time."""
    if request.param == "sqlite":
        yield from start_hq(str(tmp_path_factory.mktemp("shared-hq") / "hq.db"), signing_key_file)
    else:
        for url in _postgres_database():
            yield from start_hq(url, signing_key_file)


@dataclass
class Gate:
    """A gate folder with its config, its SQLite file and a SyncService, enrolled with an HQ."""

    folder: Path
    config_file: Path
    token: str

    @property
    def config(self) -> KioskConfig:
        return load_config(self.config_file)

    def store(self) -> GateStore:
        config = self.config
        return GateStore(config.database, config.gate_id)

    def log(
        self, count: int, *, direction: Direction = Direction.IN, start: int = 0, at: datetime | None = None
    ) -> list[str]:
        """Record `count` entries through the gate's real store (each committed on its own, at the time `at`
        when given); their ids."""
        with self.store() as store:
            return [store.record(_draft(start + i, direction), now=at).id for i in range(count)]

    def service(self, **transport: Any) -> SyncService:
        return SyncService(self.config, **transport)

    def sync(self) -> Any:
        service = self.service()
        try:
            return service.run_once()
        finally:
            service.close()


def _draft(i: int, direction: Direction) -> EntryDraft:
    verdict = Verdict(Decision.PASS, ("green code", "resident"), Colour.GREEN)
    return EntryDraft(
        direction=direction,
        code_type="PGC1",
        verdict=verdict,
        subject=f"{i:032x}",
        name="Z**** S**",
        temperature=36.5,
        operator="keeper-1",
        details={"n": str(i)},
    )


MakeGate = Callable[..., Gate]


@pytest.fixture
def make_gate(tmp_path: Path) -> MakeGate:
    """make_gate(hq, "north-gate", url=None, **config) -> an enrolled Gate (through `enroll`, the real path).

    `url` points the gate somewhere else than HQ itself (a proxy); config values go into kiosk.toml."""

    def _make(running: RunningHq, gate_id: str, url: str | None = None, **config: Any) -> Gate:
        token = running.add_gate(gate_id)
        folder = tmp_path / gate_id
        folder.mkdir()
        values: dict[str, Any] = {"database": "gate.db", "sync_retry_seconds": 0, "sync_timeout_seconds": 5} | config
        lines = [f'{key} = "{value}"' if isinstance(value, str) else f"{key} = {value}" for key, value in values.items()]
        config_file = folder / "kiosk.toml"
        config_file.write_text("\n".join(lines) + "\n")
        enroll(config_file, running.url, token)
        if url is not None:
            text = config_file.read_text().replace(running.url, url)
            config_file.write_text(text)
        return Gate(folder, config_file, token)

    return _make


# -- a loopback proxy with faults ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Fault:
    kind: str
    path: str
    status: int = 0
    action: Callable[[int], None] | None = None


@dataclass(frozen=True)
class Answer:
    """An answer the proxy passed on to the gate (from HQ, or made up by an "answer" fault)."""

    path: str
    status: int
    content_encoding: str | None
    """The answer's Content-Encoding ('gzip' when HQ compressed it), None when it had none."""
    upstream: int = 0
    """Which of the proxy's upstreams answered (their index; -1 for an answer the proxy made up)."""


class FaultyProxy:
    """An HTTP/1.1 proxy on 127.0.0.1 between a gate and HQ that breaks chosen requests on purpose.

    Given several upstreams (HQ processes), it sends each request to the next in turn (round robin, as a
    reverse proxy in front of a city's HQ processes does), whichever connection it came on.

    Faults, each applied to the next request whose path contains `path`:
    - "reset": forward half the request body to HQ, then reset both connections (HQ never gets it whole).
    - "drop": forward the request, read HQ's whole answer (HQ has committed), then reset the gate's connection
      without passing the answer on.
    - "stall": forward the request, read HQ's answer, and hold it back until the gate gives up (its timeout).
    - "tamper": pass HQ's answer on with one byte of its body changed (same length).
    - "answer" (`answer_next`): answer with the given status itself; the request never reaches HQ.
    - "then" (`then_next`): forward the request whole, call the action with the upstream's index (a test kills
      that HQ process, say), then pass on whatever answer comes, or reset the gate's connection if none does.
    `requests` lists every request's path as it arrived, `answers` every answer passed on. An upstream that
    cannot be reached closes the gate's connection without an answer (as a failed gateway might).
    Only Content-Length bodies are understood: that is all uvicorn and httpx use here.
    """

    def __init__(self, upstream: str | list[str]) -> None:
        self.upstreams = []
        for url in [upstream] if isinstance(upstream, str) else upstream:
            host, port = url.removeprefix("http://").split(":")
            self.upstreams.append((host, int(port)))
        self._turn = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)  # accept() wakes up to notice close()
        self.port = self._listener.getsockname()[1]
        self._faults: deque[_Fault] = deque()
        self._lock = threading.Lock()
        self.applied: list[tuple[str, str]] = []
        self.requests: list[str] = []
        self.answers: list[Answer] = []
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        acceptor = threading.Thread(target=self._accept, daemon=True)
        acceptor.start()
        self._threads.append(acceptor)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, kind: str, path: str = "/entries", times: int = 1) -> None:
        assert kind in {"reset", "drop", "stall", "tamper"}
        with self._lock:
            self._faults.extend([_Fault(kind, path)] * times)

    def then_next(self, action: Callable[[int], None], path: str = "/entries") -> None:
        """Call `action(upstream index)` once the next request to `path` has reached HQ whole."""
        with self._lock:
            self._faults.append(_Fault("then", path, action=action))

    def _next_upstream(self) -> int:
        with self._lock:
            index = self._turn % len(self.upstreams)
            self._turn += 1
            return index

    def answer_next(self, status: int, path: str = "/entries", times: int = 1) -> None:
        """Answer the next `times` requests to `path` with `status` (and a JSON `detail`) in HQ's place."""
        with self._lock:
            self._faults.extend([_Fault("answer", path, status)] * times)

    def close(self) -> None:
        self._closing.set()
        self._listener.close()
        for sock in list(self._sockets):
            _reset(sock)
        for thread in self._threads:
            thread.join(timeout=5)

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for i, fault in enumerate(self._faults):
                if fault.path in path:
                    del self._faults[i]
                    self.applied.append((fault.kind, path))
                    return fault
        return None

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            self._sockets.append(client)
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _pass_on(self, client: socket.socket, path: str, head: bytes, body: bytes, upstream: int = -1) -> None:
        status = int(head.split(b" ", 2)[1])
        encoding = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-encoding":
                encoding = value.strip().decode()
        client.sendall(head + body)
        self.answers.append(Answer(path, status, encoding, upstream))

    def _upstream(self, connections: dict[int, tuple[socket.socket, _Reader]]) -> tuple[int, socket.socket, _Reader]:
        """The next upstream in turn, on this client's connection to it; one that cannot be reached is passed
        over for the next (nothing was sent: any request may go elsewhere), as a reverse proxy does."""
        for _ in range(len(self.upstreams)):
            index = self._next_upstream()
            if index in connections:
                return index, *connections[index]
            try:
                opened = socket.create_connection(self.upstreams[index])
            except OSError:
                continue
            self._sockets.append(opened)
            connections[index] = (opened, _Reader(opened))
            return index, *connections[index]
        raise ConnectionRefusedError("no upstream can be reached")

    def _serve(self, client: socket.socket) -> None:
        connections: dict[int, tuple[socket.socket, _Reader]] = {}
        client_reader = _Reader(client)
        try:
            while not self._closing.is_set():
                request = client_reader.message(is_response=False)
                if request is None:
                    return
                head, body = request
                path = head.split(b" ", 2)[1].decode()
                self.requests.append(path)
                fault = self._take_fault(path)
                if fault is not None and fault.kind == "answer":
                    detail = json.dumps({"detail": f"the test proxy answers {fault.status} in HQ's place"}).encode()
                    phrase = HTTPStatus(fault.status).phrase.encode()
                    made_up = (
                        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
                        % (fault.status, phrase, len(detail))
                    )
                    self._pass_on(client, path, made_up, detail)
                    continue
                index, upstream, upstream_reader = self._upstream(connections)
                if fault is not None and fault.kind == "reset":
                    upstream.sendall(head + body[: len(body) // 2])
                    time.sleep(0.05)
                    _reset(upstream)
                    _reset(client)
                    return
                upstream.sendall(head + body)
                if fault is not None and fault.kind == "then" and fault.action is not None:
                    fault.action(index)
                response = upstream_reader.message(is_response=True)
                if response is None:
                    _reset(client)
                    return
                answer_head, answer_body = response
                if fault is not None and fault.kind == "drop":
                    _reset(client)
                    return
                if fault is not None and fault.kind == "stall":
                    self._closing.wait(timeout=30)
                    return
                if fault is not None and fault.kind == "tamper" and answer_body:
                    middle = len(answer_body) // 2
                    flipped = b"A" if answer_body[middle : middle + 1] != b"A" else b"B"
                    answer_body = answer_body[:middle] + flipped + answer_body[middle + 1 :]
                self._pass_on(client, path, answer_head, answer_body, index)
        except OSError:
            return
        finally:
            for sock in (client, *(opened for opened, _ in connections.values())):
                sock.close()


class _Reader:
    """Reads whole HTTP/1.1 messages (head and Content-Length body) from a socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buffer += chunk
        return bool(chunk)

    def message(self, *, is_response: bool) -> tuple[bytes, bytes] | None:
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                return None
        end = self.buffer.index(b"\r\n\r\n") + 4
        head, self.buffer = self.buffer[:end], self.buffer[end:]
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
            if name.strip().lower() == b"transfer-encoding":
                raise AssertionError("the test proxy does not understand chunked bodies")
        if is_response and head.split(b" ", 2)[1] in {b"304", b"204"}:
            length = 0
        while len(self.buffer) < length:
            if not self._fill():
                return None
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return head, body


def _reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0), as a dropped mobile link or a crashed middlebox looks; a thread blocked
    reading the socket wakes up."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


@pytest.fixture
def proxy(hq: RunningHq) -> Iterator[FaultyProxy]:
    running = FaultyProxy(hq.url)
    yield running
    running.close()


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 20.0) -> None:
    """Wait for a state another thread or process brings about, checking every 20 ms; fail the test, saying
    what did not happen, if it has not within `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {seconds} s")
        time.sleep(0.02)
