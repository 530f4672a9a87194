"""The HQ server as an ASGI app (FastAPI): `create_app(settings)`, or `app_from_environment()` in each of
`pocket-hq serve --workers N`'s processes.

Routers are mounted here, one per concern (the gate API under /v1; the staff dashboard, `web`, everywhere
else), all reaching the running HQ through `app.state.hq`. On start the schema is migrated; while the server
runs it takes its share of HQ's background jobs (`sync.hq.background`: the purge, housekeeping, withdrawing
rotated issuer keys, list checks; each done once across every HQ process), and writes gates' last contact every
second.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError

from sync.hq import api, background, web
from sync.hq.district_zone import publish_zone
from sync.hq.runtime import Hq
from sync.hq.settings import HqSettings

log = logging.getLogger("pocket_hq")


SIGHTINGS_FLUSH_SECONDS = 1.0
STOP_SECONDS = 10.0
"""How long a stopping process waits for the job in hand to notice and stop (a list check stops at its next
batch); whatever is left is started over by the next process (`sync.hq.jobs`)."""
SETTINGS_VARIABLE = "POCKET_HQ_SERVE_SETTINGS"
"""How `pocket-hq serve --workers N` hands its settings to the worker processes it starts (JSON)."""


async def _flush_sightings_periodically(hq: Hq) -> None:
    while True:
        await asyncio.sleep(SIGHTINGS_FLUSH_SECONDS)
        try:
            await run_in_threadpool(hq.sightings.flush)
        except DBAPIError as exc:
            log.error("recording gates' last contact failed: %s", exc.orig)


def create_app(settings: HqSettings, clock: Callable[[], float] = time.time) -> FastAPI:
    """The HQ app. Raises SigningKeyError or DatabaseError at once when the key or database is unusable.
    `clock` is what its rate limits count waits by (a test gives its own)."""
    hq = Hq(settings, clock)
    hq.db.upgrade()
    publish_zone(hq.db, settings.timezone)
    background.install(hq)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        jobs = asyncio.create_task(hq.jobs.loop(settings.job_poll_seconds, lambda: run_in_threadpool(hq.jobs.run_due)))
        sightings = asyncio.create_task(_flush_sightings_periodically(hq))
        try:
            yield
        finally:
            hq.jobs.stopping = True
            hq.jobs.wake()
            try:
                await asyncio.wait_for(asyncio.shield(jobs), STOP_SECONDS)
            except TimeoutError:
                log.warning("a background job was still running when HQ stopped; another process starts it over")
            for task in (jobs, sightings):
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            await hq.bundle_watch.close()
            hq.close()

    app = FastAPI(title="Pocket Gate HQ", version="1", lifespan=lifespan)
    app.state.hq = hq
    app.add_middleware(GZipMiddleware, minimum_size=4096)

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        """503 (gates retry it) only when the database is really unavailable: unreachable, locked, out of
        space, a dropped connection. A value the database refused is the request's fault (422, not retried);
        anything else is a fault at HQ (500). Each is one line in the log."""
        reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
        if isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated:
            log.error("database unavailable (%s %s): %s", request.method, request.url.path, reason)
            return JSONResponse({"detail": "HQ's database is unavailable; try again later"}, status_code=503)
        if isinstance(exc, DataError):
            log.warning("database refused a value (%s %s): %s", request.method, request.url.path, reason)
            return JSONResponse({"detail": f"HQ cannot use a value in this request: {reason}"}, status_code=422)
        log.error("database error (%s %s): %s", request.method, request.url.path, reason, exc_info=exc)
        return JSONResponse({"detail": "HQ failed to handle this request; the fault is logged at HQ"}, status_code=500)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, bool]:
        """Liveness for load balancers and scripts (no authentication)."""
        return {"ok": True}

    app.include_router(api.router)
    web.mount(app, hq)
    return app


def app_from_environment() -> FastAPI:
    """The app of one of `pocket-hq serve --workers N`'s processes, from the settings the command handed on."""
    return create_app(HqSettings.model_validate_json(os.environ[SETTINGS_VARIABLE]))
