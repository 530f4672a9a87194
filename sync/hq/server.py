"""Running the HQ app on uvicorn: in the foreground (`pocket-hq serve`, one process or `--workers N`) or in a
background thread (tests, benchmarks, anything that embeds an HQ on 127.0.0.1), over HTTPS when given a
certificate and its key (uvicorn's TLS)."""

from __future__ import annotations

import copy
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG

from sync.hq.app import SETTINGS_VARIABLE
from sync.hq.settings import HqSettings

BACKLOG = 4096
"""Listen queue: a thousand gates may connect in the same second."""
GRACEFUL_SECONDS = 5
"""How long a stopping server waits for requests still running: gates hold requests open for up to a minute
(waiting for a new bundle, `sync.hq.bundle_watch`); after this they are cut, and the gates ask again elsewhere
(an interrupted upload is sent again whole: ingest is idempotent)."""
KEEP_ALIVE_SECONDS = 30
"""How long an idle gate connection stays open. uvicorn's 5 s default, under a thousand gates at once, closes
connections just as a gate sends its next request (the bundle after the upload), which the gate then retries."""

WORKER_HEALTHCHECK_SECONDS = 60
"""How long uvicorn waits for a worker to answer its health check before it kills the worker and starts another
(`--workers`). uvicorn's 5 s kills busy, healthy workers: a worker checking a million-row list, or any worker on
a host saturated by thousands of gates, can take longer to be scheduled, and every request it held is dropped."""


@dataclass(frozen=True)
class Tls:
    """HQ's certificate (PEM) and its private key: HQ serves HTTPS with them."""

    cert_file: Path
    key_file: Path

    def uvicorn_options(self) -> dict[str, str]:
        return {"ssl_certfile": str(self.cert_file), "ssl_keyfile": str(self.key_file)}


def _log_config(log_level: str) -> dict[str, Any]:
    """uvicorn's logging, and HQ's own (`pocket_hq`: background jobs, database trouble) beside it."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["pocket_hq"] = {"handlers": ["default"], "level": log_level.upper(), "propagate": False}
    return config


def serve(
    app: FastAPI, settings: HqSettings, host: str, port: int, log_level: str = "info", tls: Tls | None = None
) -> None:
    """One HQ process, serving `app` (made from `settings`), over HTTPS given `tls`."""
    uvicorn.run(
        app,
        host=host,
        port=port,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        log_level=log_level,
        log_config=_log_config(log_level),
        backlog=BACKLOG,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        server_header=False,
        **(tls.uvicorn_options() if tls else {}),
    )


def serve_workers(
    settings: HqSettings, workers: int, host: str, port: int, log_level: str = "info", tls: Tls | None = None
) -> None:
    """`workers` HQ processes on one address (uvicorn's workers: the operating system shares the connections
    among them), each making its own app from `settings` (`sync.hq.app.app_from_environment`); uvicorn starts
    a worker again when one dies. Over HTTPS given `tls` (every worker serves the same certificate)."""
    os.environ[SETTINGS_VARIABLE] = settings.model_dump_json()
    uvicorn.run(
        "sync.hq.app:app_from_environment",
        factory=True,
        workers=workers,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        host=host,
        port=port,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        log_level=log_level,
        log_config=_log_config(log_level),
        backlog=BACKLOG,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        server_header=False,
        **(tls.uvicorn_options() if tls else {}),
    )


class ServerThread:
    """`with ServerThread(app) as server: httpx.get(server.url + "/healthz")`. Binds 127.0.0.1 on a free port
    (or the one given), starts uvicorn in a daemon thread, and stops it on exit."""

    def __init__(
        self, app: FastAPI, host: str = "127.0.0.1", port: int = 0, startup_timeout: float = 20, tls: Tls | None = None
    ) -> None:
        self.app = app
        self.tls = tls
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(
            app,
            log_level="warning",
            backlog=BACKLOG,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            timeout_graceful_shutdown=GRACEFUL_SECONDS,
            server_header=False,
            lifespan="on",
            **(tls.uvicorn_options() if tls else {}),
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)
        self._startup_timeout = startup_timeout

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the HQ server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        hq = getattr(self.app.state, "hq", None)
        if hq is not None:  # gates waiting for a new bundle are answered now rather than cut after a grace period
            hq.bundle_watch.release()
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self.stop()
