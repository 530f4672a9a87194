"""`pocket-kiosk purge` and `verify`: the entry log's retention and its hash chain."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from kiosk.cli.options import config_option, db_option, existing_store, gate_config
from kiosk.cli.output import friendly_errors
from kiosk.keeper_locale import ZONE_META, zone, zone_named
from kiosk.shift import day_counts
from kiosk.store import entries_phrase
from kiosk.uplink.retention import purge_entries
from sync.core.i18n import _


@click.command()
@config_option
@db_option
@friendly_errors
def purge(config_file: Path | None, db: Path | None) -> None:
    """Delete entries older than the configured retention period (also done on every start).

    An enrolled gate keeps old entries HQ has not acknowledged yet; they go at the next sync."""
    config = gate_config(config_file)
    with existing_store(config, db) as store:
        done = purge_entries(config, store)
    click.echo(done.describe())


@click.command()
@click.option("--day", type=click.DateTime(formats=["%Y-%m-%d"]), required=True,
              help="The day (YYYY-MM-DD, in the district's time) to count.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of lines.")
@config_option
@db_option
@friendly_errors
def report(day: datetime, as_json: bool, config_file: Path | None, db: Path | None) -> None:
    """A day's counts at this gate: attempts, let in, left, refused, held (one passage per attempt, as HQ counts
    them), to compare with HQ's numbers for the gate and day."""
    config = gate_config(config_file)
    with existing_store(config, db, read_only=True) as store:
        tz = zone_named(store.get_meta(ZONE_META)) or zone()  # the zone HQ's bundle names, as in the sync's report
    counts = day_counts(db or config.database, day.date(), tz)
    if as_json:
        keys = ("attempts", "let_in", "left", "refused", "held")
        click.echo(json.dumps({"gate": config.gate_id, "day": f"{day:%Y-%m-%d}"} | dict(zip(keys, (n for _, n in counts)))))
        return
    click.echo(f"{config.gate_id} {day:%Y-%m-%d}")
    for label, count in counts:
        click.echo(f"{label}\t{count}")


@click.command()
@config_option
@db_option
@friendly_errors
def verify(config_file: Path | None, db: Path | None) -> None:
    """Check the entry log's hash chain and the database file; exit status 1 if any entry was edited, removed or
    moved, or the file is damaged."""
    config = gate_config(config_file)
    with existing_store(config, db, read_only=True) as store:
        damaged = store.file_problems()
        problems = store.verify()
        count = store.count_entries()
    for text in damaged:
        click.echo(_("database file: {text}").format(text=text))
    for problem in problems:
        click.echo(_("entry {seq}: {kind}: {detail}").format(seq=problem.seq, kind=problem.kind, detail=problem.detail))
    if damaged or problems:
        raise SystemExit(1)
    click.echo(_("chain intact: {count}").format(count=entries_phrase(count)))
