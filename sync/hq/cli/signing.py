"""`pocket-hq signing-key`: the key HQ signs bundles with, whose public half every gate pins."""

from __future__ import annotations

from pathlib import Path

import click

from sync.core.i18n import _
from sync.core.bundle import create_signing_key, fingerprint, load_signing_key, public_pem
from sync.hq import signing_keys
from sync.hq.cli.options import db_option, open_db, settings_from, signing_key_option
from sync.hq.cli.output import hq_errors


@click.group("signing-key")
def signing_key() -> None:
    """HQ's bundle-signing key: gates pin its public half at enrolment and refuse bundles it did not sign."""


@signing_key.command("init")
@signing_key_option
@hq_errors
def signing_key_init(signing_key_file: Path | None) -> None:
    """Create the signing key (never overwrites one: every enrolled gate has pinned it)."""
    path = settings_from(signing_key_file=signing_key_file).signing_key_file
    key = create_signing_key(path)
    click.echo(_("signing key written to {path} (keep it private and backed up)").format(path=path))
    click.echo(_("fingerprint: {fingerprint}").format(fingerprint=fingerprint(key)))


@signing_key.command("show")
@signing_key_option
@hq_errors
def signing_key_show(signing_key_file: Path | None) -> None:
    """Print the signing key's fingerprint and public half (PEM)."""
    key = load_signing_key(settings_from(signing_key_file=signing_key_file).signing_key_file)
    click.echo(_("fingerprint: {fingerprint}").format(fingerprint=fingerprint(key)))
    click.echo(public_pem(key), nl=False)


@signing_key.command("rotate")
@signing_key_option
@db_option
@hq_errors
def signing_key_rotate(signing_key_file: Path | None, db: str | None) -> None:
    """Replace the signing key: the old key signs the new one, and gates that pinned the old one accept the new
    one for it (no gate is enrolled again). Restart `pocket-hq serve` to sign with the new key; keep the retired
    one until every gate has synced once since (`gates list`), then destroy it."""
    path = settings_from(signing_key_file=signing_key_file).signing_key_file
    done = signing_keys.rotate(open_db(db), path)
    click.echo(_("signing key {new} written to {path}, endorsed by {old}").format(
        new=done.new_fingerprint, path=path, old=done.old_fingerprint))
    click.echo(_("the old key is kept as {retired}; restart `pocket-hq serve` to sign with the new one "
                 "(bundle version {version})").format(retired=done.retired, version=done.version))
