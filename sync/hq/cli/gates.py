"""`pocket-hq gates` and `alerts`: enrolling gates, their tokens, and what HQ found in their histories."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sync.core.i18n import _
from sync.core.bundle import SigningKeyError, fingerprint, load_signing_key
from sync.core.tls import CertificateError
from sync.hq import gates as gate_admin
from sync.hq.cli.options import db_option, json_option, local_times, open_db, settings_from, signing_key_option, tls_cert_option
from sync.hq.cli.output import hq_errors
from sync.hq.tls import fingerprint_of


@click.group()
def gates() -> None:
    """Enrol, list and revoke gates."""


ADDRESS_PLACEHOLDER = "HQ_ADDRESS"

hq_url_option = click.option(
    "--hq-url",
    envvar="POCKET_HQ_URL",
    help="HQ's address as gates reach it (e.g. https://hq.example.org), put in the enrol line printed "
    "[env POCKET_HQ_URL].",
)


def _print_token(
    gate_id: str, token: str, signing_key_file: Path | None, hq_url: str | None, tls_cert_file: Path | None
) -> None:
    """The token once, with what the gate checks before it pins HQ (the signing key's and the certificate's
    fingerprints), and the whole line to run on the gate. The line reads the token from standard input
    (`--token -`, paste it when asked): a token typed on a command line stays in the shell's history."""
    settings = settings_from(signing_key_file=signing_key_file, tls_cert_file=tls_cert_file)
    click.echo(_("token for gate {gate} (shown only now; HQ keeps only its hash):").format(gate=gate_id))
    click.echo(token)
    try:
        mark = fingerprint(load_signing_key(settings.signing_key_file))
    except SigningKeyError as exc:
        click.echo(_("warning: {problem}").format(problem=exc), err=True)
        return
    line = f"pocket-kiosk enroll --hq {hq_url or ADDRESS_PLACEHOLDER} --token - --fingerprint {mark}"
    if settings.tls_cert_file is not None:
        try:
            certificate = fingerprint_of(settings.tls_cert_file)
        except CertificateError as exc:
            click.echo(_("warning: {problem}").format(problem=exc), err=True)
        else:
            click.echo(_("HQ certificate fingerprint: {fingerprint}").format(fingerprint=certificate))
            line += f" --tls-fingerprint {certificate}"
    else:
        click.echo(_("warning: no --tls-cert: HQ's certificate fingerprint is not shown (see `pocket-hq tls init`)"),
                   err=True)
    if not hq_url:
        click.echo(_("({placeholder}: the address the gate reaches HQ at; give --hq-url to have it printed here)")
                   .format(placeholder=ADDRESS_PLACEHOLDER))
    click.echo(_("on the gate, then paste the token above when it waits for it (it stays out of the shell history):"))
    click.echo(line)


@gates.command("add")
@click.argument("gate_id")
@hq_url_option
@db_option
@signing_key_option
@tls_cert_option
@hq_errors
def gates_add(
    gate_id: str, hq_url: str | None, db: str | None, signing_key_file: Path | None, tls_cert_file: Path | None
) -> None:
    """Enrol GATE_ID and print its token once, with the fingerprints the gate pins and the line to run there."""
    token = gate_admin.add_gate(open_db(db), gate_id)
    _print_token(gate_id, token, signing_key_file, hq_url, tls_cert_file)


@gates.command("token")
@click.argument("gate_id")
@hq_url_option
@db_option
@signing_key_option
@tls_cert_option
@hq_errors
def gates_token(
    gate_id: str, hq_url: str | None, db: str | None, signing_key_file: Path | None, tls_cert_file: Path | None
) -> None:
    """Give GATE_ID a new token (a leaked token, a laptop replaced while still in hand); the old one stops
    working at once. After a laptop is lost, use `gates rekey`."""
    token = gate_admin.replace_token(open_db(db), gate_id)
    _print_token(gate_id, token, signing_key_file, hq_url, tls_cert_file)


@gates.command("rekey")
@click.argument("gate_id")
@hq_url_option
@db_option
@signing_key_option
@tls_cert_option
@hq_errors
def gates_rekey(
    gate_id: str, hq_url: str | None, db: str | None, signing_key_file: Path | None, tls_cert_file: Path | None
) -> None:
    """After GATE_ID's laptop is lost or stolen: a new token and a new gate key. The old token is refused (401)
    from now on, and lists are hashed under the new key only; enrol the replacement laptop with what is printed."""
    token, generation = gate_admin.rekey_gate(open_db(db), gate_id)
    click.echo(_("gate {gate}: old token refused from now on; gate key generation {generation}").format(
        gate=gate_id, generation=generation))
    _print_token(gate_id, token, signing_key_file, hq_url, tls_cert_file)


@gates.command("revoke")
@click.argument("gate_id")
@db_option
@hq_errors
def gates_revoke(gate_id: str, db: str | None) -> None:
    """Refuse GATE_ID's token from now on (what it uploaded stays at HQ)."""
    gate_admin.revoke_gate(open_db(db), gate_id)
    click.echo(_("gate {gate} revoked").format(gate=gate_id))


@gates.command("list")
@db_option
@json_option
@hq_errors
def gates_list(db: str | None, as_json: bool) -> None:
    """Every gate: entries held, chain position, alerts, last contact."""
    database = open_db(db)
    rows = gate_admin.list_gates(database)
    shown = local_times(database)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row.__dict__))
        return
    for row in rows:
        if row.revoked_at:
            state = _("revoked {time}").format(time=shown(row.revoked_at))
        else:
            state = _("last seen {time}").format(time=shown(row.last_seen_at)) if row.last_seen_at else _("never seen")
        click.echo(_("{gate}: {entries} entries, chain #{seq}, {alerts} alerts, {state}").format(
            gate=row.gate_id, entries=row.entries, seq=row.chain_seq, alerts=row.alerts, state=state))


@click.command()
@click.option("--gate", "gate_id", help="Only this gate's alerts.")
@db_option
@json_option
@hq_errors
def alerts(gate_id: str | None, db: str | None, as_json: bool) -> None:
    """Problems found in gates' histories (gaps, edited entries, broken or rewritten chains, refused entries) and
    one code let in at two gates within `[presence] two_gates_window_minutes` (two_gates)."""
    database = open_db(db)
    shown = local_times(database)
    found = gate_admin.list_alerts(database, gate_id)
    for row in found:
        click.echo(json.dumps(row) if as_json else
                   f"{shown(row['created_at'])} {row['gate']} #{row['seq']} {_(row['kind'])}: {row['detail']}")
    if not found and not as_json:  # JSON lines: none is no line, for scripts
        click.echo(_("no alerts for gate {gate}: its history HQ holds is whole").format(gate=gate_id) if gate_id
                   else _("no alerts: every gate's history HQ holds is whole"))
