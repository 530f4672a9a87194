"""`pocket-hq db upgrade` and `db status`, `purge` and `stats-rebuild`: HQ's database, what works on it, its
retention and its statistics."""

from __future__ import annotations

import click

from sync.core.i18n import _, ngettext
from sync.hq import jobs, partitions, stats
from sync.hq.cli.options import db_option, local_times, open_db, settings_from
from sync.hq.cli.output import hq_errors
from sync.hq.retention import purge as purge_entries


@click.group("db")
def db_group() -> None:
    """HQ's database: its schema, and what works on it."""


@db_group.command("upgrade")
@db_option
@hq_errors
def db_upgrade(db: str | None) -> None:
    """Create or migrate HQ's database to the newest schema (serve does this too)."""
    database = open_db(db)
    click.echo(_("{database}: schema is current").format(database=database.display))


@db_group.command("status")
@db_option
@hq_errors
def db_status(db: str | None) -> None:
    """What works on HQ's database: how entries are held (by month on PostgreSQL), the HQ processes serving it
    and the background jobs they share (when due, when last run, by which process, what they did)."""
    database = open_db(db)
    when = local_times(database)
    with database.read() as conn:
        by_month = partitions.is_partitioned(conn)
        months = partitions.held(conn) if by_month else []
        processes, work = jobs.listing(conn)
    click.echo(_("{database}: schema is current").format(database=database.display))
    if by_month:
        click.echo(_("entries, by month (about; exact for the default partition: times outside the months made):"))
        for part in months:
            click.echo(f"  {part.name:<20} {'' if part.exact else '~'}{part.entries:>12,}")
    elif database.shared:
        click.echo(_("entries: one table"))
    else:
        click.echo(_("entries: one table (SQLite: one HQ process)"))
    if database.shared:
        click.echo(_("HQ processes (when each last looked for background work, and what it is doing):"))
        for process in processes:
            click.echo(f"  {process.name:<30} {when(process.polled_at)}  {process.doing or ''}".rstrip())
        if not processes:
            click.echo(_("  none has looked yet"))
    click.echo(_("background jobs:"))
    for job in work:
        last = (_("last finished {time} by {process}: {outcome}").format(
                    time=when(job.finished_at), process=job.process, outcome=job.outcome)
                if job.finished_at else _("not run yet"))
        runs = ngettext("run {n} time", "run {n} times", job.runs).format(n=job.runs)
        click.echo("  " + _("{job} due {time}, {runs}, {last}").format(
            job=f"{job.name:<30}", time=when(job.due_at), runs=runs, last=last))
    if not work:
        click.echo(_("  none (a server schedules them when it starts)"))


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
