"""`pocket-hq sync-import`: a gate's entries brought on a USB stick, taken in as a network upload would be."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from sync.core.bundle import load_signing_key
from sync.core.i18n import _
from sync.core.identity import load_district_key
from sync.core.stick import StickError
from sync.hq.cli.options import db_option, district_key_option, open_db, settings_from, signing_key_option
from sync.hq.cli.output import hq_errors
from sync.hq.district import DistrictSecrets
from sync.hq.stick_import import import_stick

PROGRESS_FROM = 2_000
"""Files with fewer entries are taken in within a second or so: no progress lines."""


@click.command("sync-import")
@click.argument("export_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Where to write HQ's receipt and the gate's bundle (default: beside EXPORT_FILE, on the stick).",
)
@db_option
@signing_key_option
@district_key_option
@hq_errors
def sync_import(
    export_file: Path, out: Path | None, db: str | None, signing_key_file: Path | None, district_key_file: Path | None
) -> None:
    """Take in EXPORT_FILE, written on a stick by `pocket-kiosk sync --export DIR` at a gate with no network.

    The checks are those of a network upload (the gate's token mark, the hash chain, duplicates, alerts); a file
    that fails them changes nothing. HQ's signed receipt and the gate's current bundle are written back beside
    the file: the gate moves on when the stick comes back. Importing the same file twice stores nothing twice."""
    settings = settings_from(db=db, signing_key_file=signing_key_file, district_key_file=district_key_file)
    key = load_signing_key(settings.signing_key_file)
    secrets = DistrictSecrets(load_district_key(settings.district_key_file)) if settings.district_key_file else None
    database = open_db(db)
    try:
        done = import_stick(database, key, export_file, secrets=secrets, out=out, progress=_progress())
    except StickError as exc:
        raise click.ClickException(_("refused {file}: {reason}; nothing was taken in").format(file=export_file.name, reason=exc)) from exc
    finally:
        database.dispose()
    click.echo(
        _("gate {gate}: {received} entries on the stick, {stored} new, {duplicates} already held, {refused} refused, "
          "{alerts} alerts").format(gate=done.gate, received=done.received, stored=done.stored,
                                    duplicates=done.duplicates, refused=done.refused, alerts=done.alerts)
    )
    click.echo(_("wrote {receipt} and {bundle} (bundle version {version}): carry the stick back to the gate").format(
        receipt=done.receipt.name, bundle=done.bundle.name, version=done.bundle_version))


def _progress() -> Callable[[int, int], None]:
    """A line on stderr per tenth of a large file (a week offline takes most of a minute on SQLite)."""
    shown = 0

    def tell(done: int, total: int) -> None:
        nonlocal shown
        if total >= PROGRESS_FROM and done * 10 // total > shown * 10 // total:
            click.echo(_("taken in {done}/{total} entries").format(done=done, total=total), err=True)
            shown = done

    return tell
