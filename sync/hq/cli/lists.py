"""`pocket-hq roster` and `colour-list`: the lists HQ loads from CSV and publishes to gates."""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from sync.core.i18n import _, ngettext
from sync.hq import lists, uploads
from sync.hq.cli.options import db_option, district_key, district_key_option, open_db, settings_from
from sync.hq.cli.output import hq_errors
from sync.hq.db import HqDatabase
from sync.hq.settings import HqSettings

LOAD_PROGRESS_ROWS = 100_000
"""`roster load` and `colour-list load` say how far they are every this many rows."""


@click.group()
def roster() -> None:
    """Each gate's residents (they pass without an HQ pass)."""


@roster.command("load")
@click.argument("gate_id")
@click.argument("csv_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@db_option
@district_key_option
@hq_errors
def roster_load(gate_id: str, csv_file: Path, db: str | None, district_key_file: Path | None) -> None:
    """Replace GATE_ID's roster with CSV_FILE (id_number,name,unit[,phone]); ID numbers are hashed, names masked.

    The file is checked whole before anything changes (one bad line refuses it); progress goes to stderr."""
    key = district_key(district_key_file)
    upload, version = _load_list(open_db(db), uploads.Kind.ROSTER, csv_file, key, settings_from(db=db), gate_id)
    residents = (upload.added or 0) + (upload.changed or 0) + (upload.unchanged or 0)
    click.echo(ngettext("roster of {gate}: {count} resident; {changes} (bundle version {version})",
                        "roster of {gate}: {count} residents; {changes} (bundle version {version})", residents).format(
        gate=gate_id, count=residents, changes=_changes(upload), version=version))


@click.group("colour-list")
def colour_list() -> None:
    """The district's red/yellow list: it overrides the colour a person's code shows."""


@colour_list.command("load")
@click.argument("csv_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@db_option
@district_key_option
@hq_errors
def colour_list_load(csv_file: Path, db: str | None, district_key_file: Path | None) -> None:
    """Replace the red/yellow list with CSV_FILE (id_number,colour,note; colour red or yellow).

    The file is checked whole before anything changes (one bad line refuses it); progress goes to stderr."""
    key = district_key(district_key_file)
    database = open_db(db)
    upload, version = _load_list(database, uploads.Kind.COLOUR, csv_file, key, settings_from(db=db))
    counts = lists.colour_counts(database)
    click.echo(_("red/yellow list: {red} red, {yellow} yellow; {changes} (bundle version {version})").format(
        red=counts.get("red", 0), yellow=counts.get("yellow", 0), changes=_changes(upload), version=version))


def _load_list(
    db: HqDatabase, kind: uploads.Kind, csv_file: Path, key: bytes, settings: HqSettings, gate: str | None = None
) -> tuple[uploads.Upload, int]:
    """Check a list CSV through the dashboard's staging path (streamed in batches, the same row limit, the same
    refusals; it shows in the dashboard's uploads as the operator's), then apply it; the checked upload and the
    new bundle version."""
    upload = uploads.create(db, kind, csv_file.name, f"{getpass.getuser()} (command line)", gate)
    shown = 0

    def progress(read: int) -> None:
        nonlocal shown
        if read - shown >= LOAD_PROGRESS_ROWS:
            click.echo(_("checked {rows:,} rows").format(rows=read), err=True)
            shown = read

    checked = uploads.check(db, upload.id, csv_file, key, settings.max_list_rows, progress)
    if checked.state is not uploads.State.READY:
        raise lists.ListError(checked.message)
    return checked, uploads.apply(db, upload.id)


def _changes(upload: uploads.Upload) -> str:
    return _("{added} added, {changed} changed, {removed} removed").format(
        added=upload.added, changed=upload.changed, removed=upload.removed)
