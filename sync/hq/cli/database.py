"""`pocket-hq db upgrade`, `purge` and `stats-rebuild`: HQ's database, its retention and its statistics."""

from __future__ import annotations

import click

from sync.core.i18n import _
from sync.hq import stats
from sync.hq.cli.options import db_option, local_times, open_db, settings_from
from sync.hq.cli.output import hq_errors
from sync.hq.retention import purge as purge_entries


@click.group("db")
def db_group() -> None:
    """HQ's database schema."""


@db_group.command("upgrade")
@db_option
@hq_errors
def db_upgrade(db: str | None) -> None:
    """Create or migrate HQ's database to the newest schema (serve does this too)."""
    database = open_db(db)
    click.echo(_("{database}: schema is current").format(database=database.display))


@click.command()
@db_option
@click.option("--days", type=click.IntRange(1, 3650), help="Retention in days (default: $POCKET_HQ_RETENTION_DAYS or 28).")
@hq_errors
def purge(db: str | None, days: int | None) -> None:
    """Delete entries older than the retention period (a running server also does this daily)."""
    settings = settings_from(db=db, retention_days=days)
    database = open_db(db)
    done = purge_entries(database, settings.retention_days)
    click.echo(_("purged {count} entries older than {cutoff}").format(count=done.entries, cutoff=local_times(database)(done.cutoff)))


@click.command("stats-rebuild")
@db_option
@hq_errors
def stats_rebuild(db: str | None) -> None:
    """Recompute the dashboard's hourly statistics from the entries held (after a restore or a bulk load)."""
    database = open_db(db)
    with database.begin() as conn:
        stats.rebuild(conn)
    click.echo(_("statistics rebuilt"))
