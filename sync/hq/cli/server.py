"""`pocket-hq serve`: the HQ server, the API gates sync with and the staff dashboard."""

from __future__ import annotations

from pathlib import Path

import click

from sync.core.i18n import LANGUAGES, _, ngettext
from sync.core.bundle import fingerprint
from sync.hq.cli.options import db_option, district_key_option, settings_from, signing_key_option, tls_cert_option
from sync.hq.cli.output import hq_errors
from sync.hq.db import database_url
from sync.hq.lists import rows_without_kept_id
from sync.hq.tls import fingerprint_of


@click.command()
@db_option
@signing_key_option
@district_key_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for every interface).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="TCP port to listen on.")
@click.option("--retention-days", type=click.IntRange(1, 3650), help="Purge entries older than this (default 28).")
@click.option("--rate-limit", help="Requests allowed per gate, e.g. '600/minute' (the default).")
@click.option(
    "--stale-minutes",
    type=click.FloatRange(min=0, min_open=True),
    help="The dashboard flags a gate not heard from for this long as stale (default 60).",
)
@click.option("--timezone", help="The district's time zone for the dashboard, e.g. Asia/Shanghai (default: the server's).")
@click.option(
    "--language",
    type=click.Choice(LANGUAGES),
    help="The district's language for the dashboard (each account may choose its own; default: the locale's).",
)
@click.option(
    "--secure-cookies", is_flag=True, default=None,
    help="Send the staff session cookie over HTTPS only, when a TLS proxy stands in front (with --tls-cert it always is).",
)
@tls_cert_option
@click.option(
    "--tls-key", "tls_key_file", type=click.Path(path_type=Path, dir_okay=False),
    help="The private key of --tls-cert (default: $POCKET_HQ_TLS_KEY_FILE). With both, HQ serves HTTPS.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="HQ processes to run on this address (PostgreSQL only: SQLite takes one).",
)
@click.option(
    "--read-db",
    help="A streaming replica of --db (postgresql:// URL) for the dashboard's tracing and overview "
    "(default: $POCKET_HQ_READ_DB, or none: --db serves all).",
)
@click.option(
    "--rate-limit-store",
    help="Where rate limits count: a redis:// URL (default: $POCKET_HQ_RATE_LIMIT_STORE, or the database on "
    "PostgreSQL, this process's memory on SQLite).",
)
@click.option(
    "--forwarded-allow-ips",
    help="The reverse proxies whose X-Forwarded-For names the client, comma-separated addresses or networks, or "
    "'*' (default: $POCKET_HQ_FORWARDED_ALLOW_IPS, or 127.0.0.1).",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
    help="How much the server logs.",
)
@hq_errors
def serve(
    db: str | None,
    signing_key_file: Path | None,
    district_key_file: Path | None,
    host: str,
    port: int,
    retention_days: int | None,
    rate_limit: str | None,
    stale_minutes: float | None,
    timezone: str | None,
    language: str | None,
    secure_cookies: bool | None,
    tls_cert_file: Path | None,
    tls_key_file: Path | None,
    workers: int,
    read_db: str | None,
    rate_limit_store: str | None,
    forwarded_allow_ips: str | None,
    log_level: str,
) -> None:
    """Run the HQ server: the API gates sync with, and the staff dashboard at / (migrates the database first).

    The dashboard needs the district key to trace by ID number, load lists and issue passes; staff sign in with
    accounts made by `pocket-hq users add`. On PostgreSQL, any number of HQ processes (--workers, and other
    hosts behind one address) may serve one district or city together: see README, "HQ for a city"."""
    # Imported here: the web stack is not needed by (and would slow down) every other command.
    from sync.hq.app import create_app
    from sync.hq.server import Tls
    from sync.hq.server import serve as run_server
    from sync.hq.server import serve_workers

    settings = settings_from(
        db=db,
        signing_key_file=signing_key_file,
        district_key_file=district_key_file,
        retention_days=retention_days,
        rate_limit=rate_limit,
        stale_after_minutes=stale_minutes,
        timezone=timezone,
        language=language,
        secure_cookies=secure_cookies,
        tls_cert_file=tls_cert_file,
        tls_key_file=tls_key_file,
        read_db=read_db,
        rate_limit_store=rate_limit_store,
        forwarded_allow_ips=forwarded_allow_ips,
    )
    if (settings.tls_cert_file is None) != (settings.tls_key_file is None):
        raise click.UsageError(_("give both --tls-cert and --tls-key (or neither, behind a TLS proxy)"))
    if workers > 1 and database_url(settings.db).startswith("sqlite"):
        raise click.UsageError(
            _("--workers {workers} needs PostgreSQL: HQ on SQLite ({db}) runs as one process. Give --db "
              "postgresql://... to run several (README, 'HQ for a city'), or leave --workers at 1.").format(
                workers=workers, db=settings.db)
        )
    tls = Tls(settings.tls_cert_file, settings.tls_key_file) if settings.tls_cert_file and settings.tls_key_file else None
    if tls is not None:
        certificate = fingerprint_of(tls.cert_file)  # a certificate that cannot be read is said before anything starts
    app = create_app(settings)
    hq = app.state.hq
    click.echo(_("HQ database {database}; signing key {fingerprint}").format(
        database=hq.db.display, fingerprint=fingerprint(hq.signing_key)), err=True)
    if hq.reads.replica is not None:
        click.echo(_("tracing and overview read from {replica}").format(replica=hq.reads.replica.display), err=True)
    if settings.district_key_file is None:
        click.echo(_("warning: no --district-key: gates get no key of their own (typed ID numbers cannot be taken), and "
                     "the dashboard cannot trace by ID number, load lists or issue passes"), err=True)
    elif missing := rows_without_kept_id(hq.db):
        click.echo(ngettext(
            "warning: {count} list row was loaded before gate keys: an ID number typed at a gate does not find it, "
            "and gates enrolled before keep their district key, until that list is loaded again",
            "warning: {count} list rows were loaded before gate keys: an ID number typed at a gate does not find "
            "them, and gates enrolled before keep their district key, until those lists are loaded again",
            missing,
        ).format(count=missing), err=True)
    if tls is not None:
        click.echo(_("TLS certificate {fingerprint} (gates pin it)").format(fingerprint=certificate), err=True)
    else:
        click.echo(_("warning: no --tls-cert: gates and staff talk to HQ in the clear unless a TLS proxy stands in "
                     "front (see `pocket-hq tls init`)"), err=True)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    scheme = "https" if tls else "http"
    click.echo(_("dashboard: {url} (accounts: pocket-hq users add NAME --role admin)").format(
        url=f"{scheme}://{shown}:{port}/"), err=True)
    if workers == 1:
        run_server(app, settings, host, port, log_level, tls)
        return
    hq.close()  # this process only checked the settings and migrated; the workers serve
    click.echo(ngettext("{n} HQ process on one address", "{n} HQ processes on one address", workers).format(n=workers),
               err=True)
    serve_workers(settings, workers, host, port, log_level, tls)
