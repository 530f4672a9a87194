"""`pocket-kiosk roster`: the residents a gate with no HQ yet lets in."""

from __future__ import annotations

from pathlib import Path

import click

from kiosk.cli.options import config_option, db_option, gate_config
from kiosk.cli.output import friendly_errors
from kiosk.store import GateStore
from sync.core.identity import load_district_key
from sync.core.roster_csv import read_roster
from sync.core.i18n import _


@click.group()
def roster() -> None:
    """The residents this gate lets in (HQ replaces it on every sync once enrolled)."""


@roster.command("import")
@click.argument("csv_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@config_option
@db_option
@friendly_errors
def roster_import(csv_file: Path, config_file: Path | None, db: Path | None) -> None:
    """Replace the roster with CSV_FILE (columns id_number,name,unit and an optional phone, the household's); ID
    numbers are hashed on the way in."""
    config = gate_config(config_file)
    if config.district_key_file is None:
        raise click.ClickException(_("the config names no district_key_file; ID numbers cannot be hashed"))
    rows = read_roster(csv_file, load_district_key(config.district_key_file))
    with GateStore(db or config.database, config.gate_id) as store:
        store.replace_table("roster", rows)
    click.echo(_("roster replaced: {rows} residents").format(rows=len(rows)))
