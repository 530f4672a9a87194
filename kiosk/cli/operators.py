"""`pocket-kiosk operators`: the gate keepers who may sign in at the kiosk."""

from __future__ import annotations

from pathlib import Path

import click

from kiosk.cli.options import config_option, db_option, gate_config
from kiosk.cli.output import friendly_errors
from kiosk.operators import OperatorBook, pin_problem
from sync.core.escaping import visible
from sync.core.i18n import _


@click.group()
def operators() -> None:
    """The gate keepers who may sign in at the kiosk (PINs are stored only as salted hashes)."""


def _checked_pin(_ctx: click.Context, _param: click.Parameter, pin: str) -> str:
    """A PIN that is no PIN is refused as it is typed: click asks again (before asking to repeat it), rather
    than taking it twice and then stopping."""
    if problem := pin_problem(pin):
        raise click.BadParameter(problem)
    return pin


@operators.command("add")
@click.argument("operator_id")
@click.option("--name", required=True, help="The keeper's name, shown on screen and in handover summaries.")
@click.option(
    "--pin",
    prompt="PIN (4-12 digits)",
    hide_input=True,
    confirmation_prompt=True,
    callback=_checked_pin,
    help="The PIN; asked for (twice, hidden) when not given. Avoid giving it here: it stays in shell history.",
)
@click.option("--replace", is_flag=True, help="Reset the name and PIN of an operator who already exists.")
@config_option
@db_option
@friendly_errors
def operators_add(operator_id: str, name: str, pin: str, replace: bool, config_file: Path | None, db: Path | None) -> None:
    """Add OPERATOR_ID (letters, digits, '.', '_', '-') who signs in with a PIN."""
    config = gate_config(config_file)
    with OperatorBook(db or config.database) as book:
        operator = book.add(operator_id, name, pin, replace=replace)
    click.echo(
        _("operator {id} ({name}) can sign in at gate {gate}").format(
            id=operator.id, name=visible(operator.name), gate=config.gate_id
        )
    )


@operators.command("list")
@config_option
@db_option
@friendly_errors
def operators_list(config_file: Path | None, db: Path | None) -> None:
    """List the operators who may sign in."""
    config = gate_config(config_file)
    with OperatorBook(db or config.database) as book:
        found = book.operators()
    for operator in found:
        click.echo(f"{operator.id}\t{visible(operator.name)}")
    if not found:
        click.echo(_("no operators yet: add one with `pocket-kiosk operators add ID --name NAME`"), err=True)


@operators.command("remove")
@click.argument("operator_id")
@config_option
@db_option
@friendly_errors
def operators_remove(operator_id: str, config_file: Path | None, db: Path | None) -> None:
    """Stop OPERATOR_ID from signing in (entries they logged keep their id)."""
    config = gate_config(config_file)
    with OperatorBook(db or config.database) as book:
        book.remove(operator_id)
    click.echo(_("operator {operator_id} can no longer sign in").format(operator_id=operator_id))
