"""The HQ server as an ASGI app (FastAPI): `create_app(settings)`.

Routers are mounted here, one per concern (the gate API under /v1; the staff dashboard, `web`, everywhere
else), all reaching the running HQ through `app.state.hq`. On start the schema is migrated, then old entries
are purged, and again every `purge_interval_hours` while the server runs; gates' last contact is written every
second; issuer keys whose overlap after a rotation ended are withdrawn every minute; ended staff sessions and
list uploads nobody applied are cleared every hour.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError

from sync.hq import api, issuer_keys, uploads, web
from sync.hq.district_zone import publish_zone
from sync.hq.retention import purge
from sync.hq.staff import SessionTimes, purge_sessions
from sync.hq.runtime import Hq
from sync.hq.settings import HqSettings

log = logging.getLogger("pocket_hq")


SIGHTINGS_FLUSH_SECONDS = 1.0
HOUSEKEEPING_SECONDS = 3600.0
KEY_WITHDRAWAL_SECONDS = 60.0


async def _flush_sightings_periodically(hq: Hq) -> None:
    while True:
        await asyncio.sleep(SIGHTINGS_FLUSH_SECONDS)
        try:
            await run_in_threadpool(hq.sightings.flush)
        except DBAPIError as exc:
            log.error("recording gates' last contact failed: %s", exc.orig)


async def _purge_periodically(hq: Hq) -> None:
    while True:
        try:
            purged = await run_in_threadpool(purge, hq.db, hq.settings.retention_days)
            if purged.entries:
                log.info("purged %d entries older than %s", purged.entries, purged.cutoff)
        except DBAPIError as exc:
            log.error("purge failed: %s", exc.orig)
        await asyncio.sleep(hq.settings.purge_interval_hours * 3600)


async def _housekeeping_periodically(hq: Hq, times: SessionTimes) -> None:
    while True:
        try:
            await run_in_threadpool(purge_sessions, hq.db, times)
            await run_in_threadpool(uploads.expire, hq.db)
        except DBAPIError as exc:
            log.error("clearing ended sessions and old uploads failed: %s", exc.orig)
        await asyncio.sleep(HOUSEKEEPING_SECONDS)


async def _withdraw_keys_periodically(hq: Hq) -> None:
    """Issuer keys rotated out are withdrawn from every bundle once their overlap ends (`issuer_keys`)."""
    while True:
        try:
            withdrawn = await run_in_threadpool(issuer_keys.withdraw_due, hq.db)
            if withdrawn:
                log.info("withdrew issuer keys %s: their overlap ended", ", ".join(withdrawn))
        except DBAPIError as exc:
            log.error("withdrawing rotated issuer keys failed: %s", exc.orig)
        await asyncio.sleep(KEY_WITHDRAWAL_SECONDS)


def create_app(settings: HqSettings, clock: Callable[[], float] = time.time) -> FastAPI:
    """The HQ app. Raises SigningKeyError or DatabaseError at once when the key or database is unusable.
    `clock` is what its rate limits count waits by (a test gives its own)."""
    hq = Hq(settings, clock)
    hq.db.upgrade()
    uploads.fail_interrupted(hq.db)
    publish_zone(hq.db, settings.timezone)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        tasks = [
            asyncio.create_task(_purge_periodically(hq)),
            asyncio.create_task(_flush_sightings_periodically(hq)),
            asyncio.create_task(_housekeeping_periodically(hq, dashboard.times)),
            asyncio.create_task(_withdraw_keys_periodically(hq)),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            await hq.bundle_watch.close()
            dashboard.close()
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
    dashboard = web.mount(app, hq)
    return app
