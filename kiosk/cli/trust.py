"""`pocket-kiosk trust`: the trust documents kept in the gate database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from kiosk.cli.options import config_option, db_option, existing_store, gate_config, json_option
from kiosk.cli.output import emit, friendly_errors
from kiosk.rules_in_force import policy_in_force
from kiosk.store import GateStore
from kiosk.trust_store import import_document, list_documents, remove_document
from sync.core.codes.trust import read_trust_file
from sync.core.clock import ago_text
from sync.core.escaping import visible
from sync.core.policy import FreshnessRule
from sync.core.i18n import _


@click.group()
def trust() -> None:
    """Trust lists kept in the gate database: EU DCC document signers, SMART Health Card issuers, our keys.

    HQ's sync keeps them current; `trust import` loads them from a file so a gate with no HQ still works."""


@trust.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--name", help="Name to store the document under (default: the file name; one file only).")
@click.option(
    "--issuer",
    "shc_issuer",
    help="For a JWKS that names no issuer: the issuer URL (iss) of the SMART Health Cards its keys sign.",
)
@config_option
@db_option
@friendly_errors
def trust_import(
    files: tuple[Path, ...], name: str | None, shc_issuer: str | None, config_file: Path | None, db: Path | None
) -> None:
    """Check trust FILES and store them in the gate database (a document of the same name is replaced).

    A FILE is PEM or DER X.509 certificates (EU DCC document signers), PEM public keys (PGC1 issuers), a JWKS,
    a directory of SMART Health Card issuers (participating_issuers) or a revocation list. Every file is
    checked first: a bad one stores nothing."""
    if name is not None and len(files) > 1:
        raise click.UsageError("--name names one file; leave it out to use each file's name")
    config = gate_config(config_file)
    with GateStore(db or config.database, config.gate_id) as store:
        for path in files:
            summary = import_document(
                store, read_trust_file(path), name=name or path.name, origin="file", shc_issuer=shc_issuer
            )
            click.echo(_("imported {summary}").format(summary=visible(summary.describe())))
        count = len(list_documents(store))
    click.echo(_("trust list: {count} documents in {database}").format(count=count, database=db or config.database))


@trust.command("list")
@config_option
@db_option
@json_option
@friendly_errors
def trust_list(config_file: Path | None, db: Path | None, as_json: bool) -> None:
    """Show the trust documents in the gate database, where each came from and how fresh the list is."""
    config = gate_config(config_file)
    now = datetime.now(UTC)
    with existing_store(config, db, read_only=True) as store:
        documents = list_documents(store)
        freshness = policy_in_force(config, store).policy.section(FreshnessRule)
    for doc in documents:
        record = {
            "name": visible(doc.name),
            "origin": doc.origin,
            "summary": visible(doc.summary),
            "sha256": doc.sha256,
            "imported_at": doc.imported_at.isoformat(),
            "confirmed_at": doc.confirmed_at.isoformat(),
        }
        emit(record, as_json, f"{visible(doc.name)} [{doc.origin}, confirmed {doc.confirmed_at:%Y-%m-%d %H:%M}]: "
             f"{visible(doc.summary)}")
    if not documents:
        click.echo(_("no trust documents stored; import some with `pocket-kiosk trust import FILE`"), err=True)
        return
    age = now - max(doc.confirmed_at for doc in documents)
    stale = f"STALE (limit {freshness.keys_max_age_hours:g} h; codes then {freshness.stale_keys.value})"
    state = stale if freshness.keys_stale(age) else "fresh"
    click.echo(_("trust list last refreshed {age}: {state}").format(age=ago_text(age), state=state), err=True)


@trust.command("remove")
@click.argument("name")
@config_option
@db_option
@friendly_errors
def trust_remove(name: str, config_file: Path | None, db: Path | None) -> None:
    """Forget the trust document stored as NAME (see `trust list`)."""
    config = gate_config(config_file)
    with existing_store(config, db) as store:
        removed = remove_document(store, name)
    if not removed:
        raise click.ClickException(_("no trust document named {name!r}").format(name=visible(name)))
    click.echo(_("removed {name}").format(name=visible(name)))
