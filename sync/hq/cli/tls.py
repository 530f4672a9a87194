"""`pocket-hq tls`: HQ's TLS certificate, for serving HTTPS to gates and staff."""

from __future__ import annotations

from pathlib import Path

import click

from sync.core.i18n import _
from sync.core.tls import CertificateError
from sync.hq.tls import DEFAULT_DAYS, create_self_signed, fingerprint_of


@click.group()
def tls() -> None:
    """HQ's TLS certificate (gates pin it at enrolment)."""


@tls.command("init")
@click.option("--host", "hosts", multiple=True, required=True,
              help="A name or address gates reach HQ by (repeat for each; the first is the certificate's name).")
@click.option("--cert", "cert_file", type=click.Path(path_type=Path, dir_okay=False), default=Path("hq-tls.crt"),
              show_default=True, help="Certificate file to create.")
@click.option("--key", "key_file", type=click.Path(path_type=Path, dir_okay=False), default=Path("hq-tls.key"),
              show_default=True, help="Private key file to create (owner-only).")
@click.option("--days", type=click.IntRange(1, 36500), default=DEFAULT_DAYS, show_default=True,
              help="How long the certificate is valid.")
def tls_init(hosts: tuple[str, ...], cert_file: Path, key_file: Path, days: int) -> None:
    """Make a self-signed certificate for a district without a certificate authority. Gates need no authority:
    each pins the fingerprint printed here (and by `gates add`) at enrolment. Never overwrites a certificate."""
    try:
        mark = create_self_signed(cert_file, key_file, list(hosts), days)
    except CertificateError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_("certificate {cert} and key {key} written for {hosts} ({days} days)").format(
        cert=cert_file, key=key_file, hosts=", ".join(hosts), days=days))
    click.echo(_("fingerprint: {fingerprint}").format(fingerprint=mark))
    click.echo(_("serve with: {command}").format(
        command=f"pocket-hq serve --tls-cert {cert_file} --tls-key {key_file} ..."))


@tls.command("show")
@click.argument("cert_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
def tls_show(cert_file: Path) -> None:
    """Print CERT_FILE's fingerprint, as gates pin it."""
    try:
        click.echo(fingerprint_of(cert_file))
    except CertificateError as exc:
        raise click.ClickException(str(exc)) from exc
