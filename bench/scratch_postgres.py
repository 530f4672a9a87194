"""Dropping a benchmark's PostgreSQL database, shared by the benchmarks that make one.

Not `DROP DATABASE ... WITH (FORCE)`: that must also end an autovacuum worker visiting the new database, which
a non-superuser role may not, and then fails. Ending this role's own sessions and dropping plainly has
PostgreSQL stop the worker itself (tests/sync_testkit.py does the same for the tests' databases).
"""

from __future__ import annotations

import psycopg


def drop_database(admin_url: str, name: str) -> None:
    """Drop database `name` (if it exists) through a connection to `admin_url`."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
            " WHERE datname = %s AND usename = current_user AND pid <> pg_backend_pid()",
            [name],
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
