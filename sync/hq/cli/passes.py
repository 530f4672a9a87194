"""`pocket-hq passes`: passes that let non-residents through a gate for a while."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from sync.core.i18n import _
from sync.core.cli_types import UTC_TIME
from sync.hq import lists
from sync.hq.cli.options import db_option, district_key, district_key_option, json_option, local_times, open_db
from sync.hq.cli.output import hq_errors


@click.group()
def passes() -> None:
    """Passes that let non-residents (staff, vehicles, visitors) through a gate for a while."""


@passes.command("issue")
@click.option("--id", "id_number", required=True, help="The holder's ID number (hashed at once; never stored).")
@click.option("--doc-type", default="resident-id", show_default=True, help="Kind of ID document; other kinds skip the check digit.")
@click.option("--kind", default="staff", show_default=True, help="What the pass is for: staff, vehicle, visitor...")
@click.option("--gate", "gate_id", help="The gate it is valid at (default: every gate).")
@click.option("--from", "valid_from", type=UTC_TIME, help="Start, ISO 8601 (default now; UTC if no offset).")
@click.option("--hours", type=click.FloatRange(min=0.01, max=24 * 366), default=24.0, show_default=True, help="Validity in hours.")
@click.option("--note", default="", help="A note shown to HQ staff.")
@db_option
@district_key_option
@hq_errors
def passes_issue(
    id_number: str,
    doc_type: str,
    kind: str,
    gate_id: str | None,
    valid_from: datetime | None,
    hours: float,
    note: str,
    db: str | None,
    district_key_file: Path | None,
) -> None:
    """Issue a pass and print its id (for `passes revoke`)."""
    start = valid_from or datetime.now(UTC)
    issued = lists.issue_pass(
        open_db(db),
        id_number=id_number,
        district_key=district_key(district_key_file),
        kind=kind,
        valid_from=start,
        valid_until=start + timedelta(hours=hours),
        gate_id=gate_id,
        note=note,
        doc_type=doc_type,
    )
    database = open_db(db)
    where = _("gate {gate}").format(gate=issued.gate) if issued.gate else _("every gate")
    click.echo(_("{id}: {kind} pass at {where} until {until} (bundle version {version})").format(
        id=issued.id, kind=_(issued.kind), where=where, until=local_times(database)(issued.valid_until),
        version=issued.version))


@passes.command("revoke")
@click.argument("pass_id")
@db_option
@hq_errors
def passes_revoke(pass_id: str, db: str | None) -> None:
    """Withdraw PASS_ID (gates drop it at their next sync)."""
    version = lists.revoke_pass(open_db(db), pass_id)
    click.echo(_("{id} revoked (bundle version {version})").format(id=pass_id, version=version))


@passes.command("list")
@db_option
@json_option
@hq_errors
def passes_list(db: str | None, as_json: bool) -> None:
    """Every pass, soonest to expire first."""
    database = open_db(db)
    shown = local_times(database)
    for row in lists.list_passes(database):
        where = _("gate {gate}").format(gate=row["gate"]) if row["gate"] else _("every gate")
        click.echo(json.dumps(row) if as_json else _("{id}: {kind} at {where} {start} .. {until} {note}").format(
            id=row["id"], kind=_(row["kind"]), where=where, start=shown(row["valid_from"]),
            until=shown(row["valid_until"]), note=row["note"]))
