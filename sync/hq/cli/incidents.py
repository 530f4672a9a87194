"""`pocket-hq incidents`: the district's procedure for a red code refused at a gate, and the open incidents."""

from __future__ import annotations

import click

from sync.core.i18n import _
from sync.core.protocol import IncidentProcedure
from sync.hq import incidents as incident_store
from sync.hq.cli.options import db_option, open_db
from sync.hq.cli.output import hq_errors


@click.group()
def incidents() -> None:
    """Red-code incidents: the procedure gates show, and the incidents they report."""


@incidents.command("procedure")
@click.option("--step", "steps", multiple=True, help="A step the keeper follows, in order (repeat: at most 10).")
@click.option("--phone", default="", help="The number the keeper calls (the district's health team).")
@click.option("--clear", is_flag=True, help="Stop publishing a procedure (gates then show refusals only, as before).")
@db_option
@hq_errors
def procedure(steps: tuple[str, ...], phone: str, clear: bool, db: str | None) -> None:
    """Set the procedure every gate shows when it refuses a red code or a red-listed person (sent in the bundle)."""
    if clear:
        version = incident_store.set_procedure(open_db(db), None)
        click.echo(_("procedure cleared (bundle version {version})").format(version=version))
        return
    if not steps and not phone.strip():
        raise click.UsageError(_("give at least one --step or a --phone (or --clear)"))
    checked = IncidentProcedure(steps=[" ".join(s.split()) for s in steps], phone=phone.strip())
    version = incident_store.set_procedure(open_db(db), checked)
    click.echo(_("procedure of {steps} steps, phone {phone}, published (bundle version {version})").format(
        steps=len(checked.steps), phone=checked.phone or "-", version=version))


@incidents.command("list")
@db_option
@hq_errors
def list_open(db: str | None) -> None:
    """The open incidents (newest first), as the overview shows them."""
    with open_db(db).read() as conn:
        found = incident_store.open_incidents(conn)
    if not found:
        click.echo(_("no open incidents"))
    for i in found:
        click.echo(f"{i.ts}  {i.gate}  {i.name or '-'}  {i.outcome}  ({i.keeper})  {i.id}")
