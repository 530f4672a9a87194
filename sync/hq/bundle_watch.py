"""Telling connected gates at once that their bundle changed: the long-poll behind `GET /v1/gates/{gate}/bundle/wait`.

A gate holds one request open (`?after=<the version it has>`); HQ answers as soon as that gate's bundle version is
past it, or after the wait it was asked for (at most `MAX_WAIT_SECONDS`, short enough for proxies that cut idle
requests), and the gate asks again. A plain HTTP request with the gate's token: nothing new to pass a proxy.

Bundles change in any HQ process (a dashboard upload, `pocket-hq lists` on the command line, another HQ process
behind the same address), so each process watches the one counter every change takes (`sync.hq.revisions`),
once every `poll_seconds` however many gates wait, and wakes all its waiters when it moves; each then reads its
own gate's version, and only those whose bundle changed are answered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from sync.hq.db import HqDatabase
from sync.hq.revisions import COUNTER
from sync.hq.tables import revisions

MAX_WAIT_SECONDS = 55.0
"""The longest a gate's request is held (gates ask for 25 s: under the 30-60 s after which proxies drop idle
requests)."""
log = logging.getLogger("pocket_hq")


def read_counter(db: HqDatabase) -> int:
    """The number every bundle change takes (it only grows)."""
    with db.read() as conn:
        return int(conn.execute(select(revisions.c.value).where(revisions.c.scope == COUNTER)).scalar() or 0)


class BundleWatch:
    """One per HQ process: wakes the requests waiting for a bundle change when the counter moves."""

    def __init__(self, read: Callable[[], int], poll_seconds: float = 0.5) -> None:
        self._read = read
        self.poll_seconds = poll_seconds
        self._changed: asyncio.Event | None = None
        self._ready: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.released = False
        """Set when the server stops: every wait ends at once, with the version as it is."""

    async def changed(self) -> asyncio.Event:
        """The event set at the next change of the counter. Take it *before* reading a gate's version: a change
        after that read then sets it, so no change between the read and the wait is missed."""
        if self._task is None:
            self._changed, self._ready = asyncio.Event(), asyncio.Event()
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.create_task(self._watch())
        assert self._changed is not None and self._ready is not None
        event = self._changed
        await self._ready.wait()  # the watch's first reading is taken: any later change is seen
        return event

    async def _watch(self) -> None:
        last: int | None = None
        while True:
            try:
                now = await run_in_threadpool(self._read)
            except DBAPIError as exc:
                log.warning("watching for bundle changes: the database did not answer (%s)", exc.orig)
                now = last
            if last is not None and now != last and self._changed is not None:
                self._changed.set()
                self._changed = asyncio.Event()
            last = now
            if self._ready is not None:
                self._ready.set()  # after a failed first reading too: its waiters fall back to their timeout
            await asyncio.sleep(self.poll_seconds)

    def release(self) -> None:
        """End every wait now and from now on (thread-safe: a server stopping calls it, so that no gate's request
        holds the shutdown up)."""
        self.released = True
        if self._loop is not None and self._changed is not None:
            with suppress(RuntimeError):  # the loop has closed already: nobody waits
                self._loop.call_soon_threadsafe(self._changed.set)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None


async def wait_for_version(
    watch: BundleWatch, version_of: Callable[[], int], after: int, seconds: float, gone: Callable[[], Awaitable[bool]]
) -> int:
    """The gate's bundle version as soon as it is past `after`, or when `seconds` are up (or the gate hung up,
    `gone()`): whatever it is then."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + min(seconds, MAX_WAIT_SECONDS)
    while True:
        event = await watch.changed()
        version = await run_in_threadpool(version_of)
        left = deadline - loop.time()
        if version > after or left <= 0 or watch.released or await gone():
            return version
        with suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=left)
