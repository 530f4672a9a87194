"""`pocket-hq trust`: the issuer keys and trust documents HQ publishes to gates."""

from __future__ import annotations

from pathlib import Path

import click

from sync.core.i18n import _
from sync.core.protocol import ISSUER_PUBLIC_KEY, TRUST_FILE
from sync.hq import issuer_keys, lists
from sync.hq.cli.options import db_option, local_times, open_db
from sync.hq.cli.output import hq_errors


@click.group()
def trust() -> None:
    """Issuer public keys (and other trust documents) that gates believe."""


@trust.command("add")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@db_option
@hq_errors
def trust_add(paths: tuple[Path, ...], db: str | None) -> None:
    """Publish trust to every gate: PGC1 issuer keys (PEM files, or keys folders from `keys init`) and trust
    files for standard certificates (EU DCC signer certificates, SMART Health Card JWKS or issuer directories)."""
    documents = lists.trust_documents_from(list(paths))
    version = lists.add_trust(open_db(db), documents)
    for doc in documents:
        click.echo(_("trusted {type} {id} ({label})").format(type=doc.type, id=doc.id, label=doc.label))
    click.echo(_("bundle version {version}").format(version=version))


@trust.command("remove")
@click.argument("doc_id")
@click.option(
    "--type",
    "doc_type",
    type=click.Choice([ISSUER_PUBLIC_KEY, TRUST_FILE]),
    default=ISSUER_PUBLIC_KEY,
    show_default=True,
    help="Kind of document: an issuer key (by key id) or a trust file (by file name).",
)
@db_option
@hq_errors
def trust_remove(doc_id: str, doc_type: str, db: str | None) -> None:
    """Stop publishing DOC_ID (gates distrust it at their next sync); see `trust list` for ids."""
    version = lists.remove_trust(open_db(db), doc_id, doc_type)
    click.echo(_("{id} removed (bundle version {version})").format(id=doc_id, version=version))


@trust.command("list")
@db_option
@hq_errors
def trust_list(db: str | None) -> None:
    """Every trust document HQ publishes (an issuer key rotated out says until when)."""
    database = open_db(db)
    withdrawals = dict(issuer_keys.pending(database))
    shown = local_times(database)
    for doc in lists.list_trust(database):
        until = _(" (withdrawn at {time})").format(time=shown(withdrawals[doc.id])) if doc.id in withdrawals else ""
        click.echo(f"{doc.type} {doc.id} {doc.label}{until}")
