"""Where HQ's rate limits count (gates' requests, staff sign-ins): a `limits` storage shared by every HQ process.

The `limits` library counts; this module picks where. On SQLite (one process) the counts stay in the process's
memory, as `limits` keeps them. On PostgreSQL several processes serve one city and each must see the others'
counts, or a gate allowed 600 requests a minute gets 600 from each: they count in the database itself
(`DatabaseStorage`, a `limits` storage for its moving window), or in Redis where the district runs one
(`rate_limit_store = redis://...`, `limits`' own Redis storage).

`DatabaseStorage` keeps one row per counted request in `rate_limit_hits` (UNLOGGED: no disk flush per request,
and a crash forgets counts at worst) and takes a transaction-scoped advisory lock on the key while it counts and
adds, so that two processes cannot both take the last request a window allows. It reads time from the clock it
is given (the server's, or a test's), as the memory storage reads `time.time()`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from limits.errors import ConfigurationError
from limits.storage import MemoryStorage, MovingWindowSupport, Storage, storage_from_string
from sqlalchemy import Connection, delete, func, insert, select, text
from sqlalchemy.exc import DBAPIError

from sync.hq.db import DatabaseError, HqDatabase
from sync.hq.tables import rate_limit_hits


class DatabaseStorage(Storage, MovingWindowSupport):
    """A `limits` moving-window storage in HQ's PostgreSQL database."""

    STORAGE_SCHEME = None  # made by `limits_storage`, never from a URI

    def __init__(self, db: HqDatabase, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.db = db
        self.clock = clock

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return DBAPIError

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Count `amount` requests at `key` if the window of `expiry` seconds still has room for them."""
        if amount > limit:
            return False
        now = self.clock()
        with self.db.begin() as conn:
            conn.execute(text("SET LOCAL synchronous_commit = off"))
            conn.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
            conn.execute(delete(rate_limit_hits).where(rate_limit_hits.c.key == key, rate_limit_hits.c.expires_at <= now))
            held = conn.execute(select(func.count()).where(
                rate_limit_hits.c.key == key, rate_limit_hits.c.at >= now - expiry)).scalar_one()
            if held + amount > limit:
                return False
            conn.execute(insert(rate_limit_hits), [{"key": key, "at": now, "expires_at": now + expiry}] * amount)
        return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """(When the oldest request still in the window was counted, how many are in it)."""
        now = self.clock()
        with self.db.read() as conn:
            oldest, held = conn.execute(select(func.min(rate_limit_hits.c.at), func.count()).where(
                rate_limit_hits.c.key == key, rate_limit_hits.c.at > now - expiry)).one()
        return (oldest if oldest is not None else now), int(held)

    def clear(self, key: str) -> None:
        with self.db.begin() as conn:
            conn.execute(delete(rate_limit_hits).where(rate_limit_hits.c.key == key))

    def reset(self) -> int | None:
        with self.db.begin() as conn:
            return conn.execute(delete(rate_limit_hits)).rowcount

    def check(self) -> bool:
        with self.db.read() as conn:
            return conn.execute(select(1)).scalar_one() == 1

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise NotImplementedError("HQ counts with the moving window only (acquire_entry)")

    def get(self, key: str) -> int:
        raise NotImplementedError("HQ counts with the moving window only (get_moving_window)")

    def get_expiry(self, key: str) -> float:
        raise NotImplementedError("HQ counts with the moving window only (get_moving_window)")


def forget_expired(conn: Connection, now: float) -> int:
    """Remove counted requests whose window has passed (housekeeping: a key hit once is never cleared by a hit)."""
    return conn.execute(delete(rate_limit_hits).where(rate_limit_hits.c.expires_at <= now)).rowcount


def limits_storage(store: str | None, db: HqDatabase, clock: Callable[[], float] = time.time) -> Storage:
    """The storage rate limits count in: `store` when given (redis://..., memory://), else the database on
    PostgreSQL and this process's memory on SQLite."""
    if store is None:
        return DatabaseStorage(db, clock) if db.shared else MemoryStorage()
    try:
        storage = storage_from_string(store)
    except ConfigurationError as exc:
        raise DatabaseError(f"cannot count rate limits in {store.split('@')[-1]}: {exc} (for Redis, install "
                            "pocket-gate[redis])") from exc
    assert isinstance(storage, Storage)
    return storage
