"""Test support for HQ at city scale: `pocket-hq serve` processes started by the test on one PostgreSQL database,
as an operator starts them on several hosts, and the streaming replica `.ci/replica` makes beside the test
server.

The replica: $POCKET_HQ_TEST_REPLICA (default postgresql://pocket:pocket@127.0.0.1:5433/postgres, which
.ci/run makes and exports) follows $POCKET_HQ_TEST_POSTGRES, so a database a test makes there appears on the
replica a moment later under the same name. Without one, the tests that need it skip on a plain local run and
fail under CI (tests/parts.py).
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg

from tests.parts import missing_part
from tests.sync_testkit import POSTGRES_URL

from kiosk.uplink.tls import pinned_context

REPLICA_URL = os.environ.get("POCKET_HQ_TEST_REPLICA", "postgresql://pocket:pocket@127.0.0.1:5433/postgres")
HQ_BIN = Path(sys.executable).with_name("pocket-hq")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HqProcess:
    """`pocket-hq serve` in a process of its own on 127.0.0.1, with its output in a log file. `settings` are
    POCKET_HQ_* variables (without the prefix) on top of the test's environment. Given `--tls-cert` (and
    `--tls-key`) among `args`, it serves HTTPS, and the test reaches it with that certificate pinned."""

    def __init__(self, db_url: str, signing_key: Path, log: Path, *args: str, **settings: str) -> None:
        self.db_url = db_url
        self.args = ["--db", db_url, "--signing-key", str(signing_key), "--log-level", "info", *args]
        self.cert = Path(args[args.index("--tls-cert") + 1]) if "--tls-cert" in args else None
        self.env = os.environ | {f"POCKET_HQ_{name.upper()}": value for name, value in settings.items()}
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"{'https' if self.cert else 'http'}://127.0.0.1:{self.port}"

    def verify(self) -> ssl.SSLContext | bool:
        """What a client checks this process's certificate with (its own, pinned), when it serves HTTPS."""
        return pinned_context(self.cert.read_bytes()) if self.cert else True

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, seconds: float = 60) -> HqProcess:
        """Start it (again, on the same port) and wait until it answers /healthz."""
        return self.launch().ready(seconds)

    def launch(self) -> HqProcess:
        """Start it (again, on the same port) without waiting (`ready` waits): processes launched together start
        in parallel, as a city's do."""
        self.port = self.port or free_port()
        with self.log.open("a") as out:
            self.process = subprocess.Popen([str(HQ_BIN), "serve", *self.args, "--port", str(self.port)],
                                            env=self.env, stdout=out, stderr=subprocess.STDOUT)
        return self

    def ready(self, seconds: float = 60) -> HqProcess:
        """Wait until it answers /healthz; fail, with the end of its log, if it dies or takes `seconds` (stopping
        it)."""
        assert self.process is not None
        deadline = time.monotonic() + seconds
        while True:
            try:
                if httpx.get(self.url + "/healthz", timeout=2, verify=self.verify()).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()  # not left running (and holding the test's database) after the test
                raise AssertionError(f"HQ did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: the process dies where it stands, as a host losing power does."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def replica_problem() -> str | None:
    """Why no streaming replica of the test server can be used (None when one can)."""
    try:
        with psycopg.connect(REPLICA_URL, connect_timeout=3) as conn:
            standby = conn.execute("SELECT pg_is_in_recovery()").fetchone()
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        return f"no streaming replica reachable at {REPLICA_URL} ({first}); .ci/run makes one (.ci/replica)"
    if not (standby and standby[0]):
        return f"{REPLICA_URL} is not a standby (pg_is_in_recovery() is false); .ci/replica makes one"
    return None


def replica_of(primary_db_url: str) -> str:
    """The replica's URL of a database made on the test server (or `missing_part`)."""
    if problem := replica_problem():
        missing_part(problem)
    name = primary_db_url.rpartition("/")[2]
    assert primary_db_url.startswith(POSTGRES_URL.rpartition("/")[0])
    return f"{REPLICA_URL.rpartition('/')[0]}/{name}"


def replay(paused: bool) -> None:
    """Pause or resume the replica's replay of the primary's changes (it keeps receiving them meanwhile)."""
    with psycopg.connect(REPLICA_URL, autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_pause()" if paused else "SELECT pg_wal_replay_resume()")
