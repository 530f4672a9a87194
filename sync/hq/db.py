"""HQ's database: the engine on SQLite (the embedded default) or PostgreSQL (a city), its migrations to the schema
of `sync.hq.tables` (Alembic, on both), and the statistics a migration asks to recompute.

SQLite allows one writer at a time; a process-wide lock queues HQ's writers instead of letting SQLite answer
"database is locked". One HQ process per SQLite file; run PostgreSQL for more: there, every HQ process of a city
shares the one database, and migrations take an advisory lock so that processes starting together migrate once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, Protocol

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from sync.core.i18n import _
from sync.hq import stats

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 0x706F636B
"""The PostgreSQL advisory lock key ('pock') every HQ process takes to migrate: one migrates, the others wait
and then find the schema current."""
POOL_KEPT = 20
"""Connections a process keeps open between bursts; more are opened up to `db_connections` while busy."""
TCP_KEEPALIVE = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}
"""PostgreSQL notices within about a minute that an HQ host died (or its network did) holding a background job's
lock, and frees the job for another process (sync/hq/jobs.py)."""


class Reader(Protocol):
    """Anything reads can be made through: an `HqDatabase`, or `replica.Reads` (a replica, else the primary)."""

    def read(self) -> AbstractContextManager[Connection]: ...


class DatabaseError(Exception):
    """HQ's database URL is wrong or the database cannot be reached; the message says which."""


def database_url(db: str) -> str:
    """A SQLAlchemy URL from what an operator types: a file path (SQLite) or a postgresql:// URL."""
    if "://" not in db:
        return f"sqlite:///{Path(db).expanduser().resolve()}"
    for plain in ("postgresql://", "postgres://"):
        if db.startswith(plain):
            return "postgresql+psycopg://" + db[len(plain) :]
    return db


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class HqDatabase:
    """The engine, the dialect-specific bits, and the writer lock (SQLite only)."""

    def __init__(self, db: str, connections: int = 50) -> None:
        url = database_url(db)
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise DatabaseError(_("{db!r} is neither a file path nor a database URL").format(db=db)) from exc
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=20, max_overflow=40
            )
            event.listen(self.engine, "connect", _sqlite_pragmas)
            self._write_lock: threading.Lock | None = threading.Lock()
        elif self.dialect == "postgresql":
            # JIT off: PostgreSQL compiles any query it estimates as costly (a count over a busy gate's
            # fortnight) for 100-300 ms, longer than such a query then runs; HQ's queries are many and short.
            kept = min(POOL_KEPT, connections)
            self.engine = create_engine(
                url, pool_size=kept, max_overflow=connections - kept, pool_pre_ping=True,
                connect_args={"options": "-c jit=off", "connect_timeout": 10, **TCP_KEEPALIVE},
            )
            self._write_lock = None
        else:
            raise DatabaseError(_("HQ runs on SQLite or PostgreSQL, not {dialect}").format(dialect=self.dialect))
        self.display = parsed.render_as_string(hide_password=True)

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (safe to run on every start)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.begin() as conn:
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        except OperationalError as exc:
            raise DatabaseError(_("cannot reach HQ's database {database}: {error}").format(database=self.display, error=exc.orig)) from exc
        with self.read() as conn:
            needed = stats.rebuild_needed(conn)
        if needed:
            with self.begin() as conn:
                stats.rebuild(conn)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction: committed on success, rolled back on any error."""
        with self._write_lock or nullcontext(), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    @property
    def shared(self) -> bool:
        """True when several HQ processes may share this database (PostgreSQL); False for SQLite (one process)."""
        return self.dialect == "postgresql"

    def dispose(self) -> None:
        self.engine.dispose()
