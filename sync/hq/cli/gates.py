"""`pocket-hq gates` and `alerts`: enrolling gates, their tokens, and what HQ found in their histories."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sync.core.bundle import SigningKeyError, fingerprint, load_signing_key
from sync.core.tls import CertificateError
from sync.hq import gates as gate_admin
from sync.hq.cli.options import db_option, json_option, open_db, settings_from, signing_key_option, tls_cert_option
from sync.hq.cli.output import hq_errors
from sync.hq.tls import fingerprint_of


@click.group()
def gates() -> None:
    """Enrol, list and revoke gates."""


def _print_token(gate_id: str, token: str, signing_key_file: Path | None, tls_cert_file: Path | None) -> None:
    """The token, once, with what the gate checks before it pins HQ: the signing key's and the certificate's
    fingerprints, and the line to run on the gate (which reads the token from standard input)."""
    settings = settings_from(signing_key_file=signing_key_file, tls_cert_file=tls_cert_file)
    click.echo(f"token for gate {gate_id} (shown only now; HQ keeps only its hash):")
    click.echo(token)
    try:
        mark = fingerprint(load_signing_key(settings.signing_key_file))
    except SigningKeyError as exc:
        click.echo(f"warning: {exc}", err=True)
        return
    line = f"pocket-kiosk enroll --hq https://HQ:PORT --token - --fingerprint {mark}"
    if settings.tls_cert_file is not None:
        try:
            certificate = fingerprint_of(settings.tls_cert_file)
        except CertificateError as exc:
            click.echo(f"warning: {exc}", err=True)
        else:
            click.echo(f"HQ certificate fingerprint: {certificate}")
            line += f" --tls-fingerprint {certificate}"
    else:
        click.echo("warning: no --tls-cert: HQ's certificate fingerprint is not shown (see `pocket-hq tls init`)", err=True)
    click.echo("on the gate (it asks for the token; HQ is the address gates reach it by):")
    click.echo(f"  {line}")


@gates.command("add")
@click.argument("gate_id")
@db_option
@signing_key_option
@tls_cert_option
@hq_errors
def gates_add(gate_id: str, db: str | None, signing_key_file: Path | None, tls_cert_file: Path | None) -> None:
    """Enrol GATE_ID and print its token once, with the fingerprints the gate pins and the line to run there."""
    token = gate_admin.add_gate(open_db(db), gate_id)
    _print_token(gate_id, token, signing_key_file, tls_cert_file)


@gates.command("token")
@click.argument("gate_id")
@db_option
@signing_key_option
@tls_cert_option
@hq_errors
def gates_token(gate_id: str, db: str | None, signing_key_file: Path | None, tls_cert_file: Path | None) -> None:
    """Give GATE_ID a new token (a leaked token, a laptop replaced while still in hand); the old one stops
    working at once. After a laptop is lost, use `gates rekey`."""
    token = gate_admin.replace_token(open_db(db), gate_id)
    _print_token(gate_id, token, signing_key_file, tls_cert_file)


@gates.command("rekey")
@click.argument("gate_id")
@db_option
@signing_key_option
@tls_cert_option
@hq_errors
def gates_rekey(gate_id: str, db: str | None, signing_key_file: Path | None, tls_cert_file: Path | None) -> None:
    """After GATE_ID's laptop is lost or stolen: a new token and a new gate key. The old token is refused (401)
    from now on, and lists are hashed under the new key only; enrol the replacement laptop with what is printed."""
    token, generation = gate_admin.rekey_gate(open_db(db), gate_id)
    click.echo(f"gate {gate_id}: old token refused from now on; gate key generation {generation}")
    _print_token(gate_id, token, signing_key_file, tls_cert_file)


@gates.command("revoke")
@click.argument("gate_id")
@db_option
@hq_errors
def gates_revoke(gate_id: str, db: str | None) -> None:
    """Refuse GATE_ID's token from now on (what it uploaded stays at HQ)."""
    gate_admin.revoke_gate(open_db(db), gate_id)
    click.echo(f"gate {gate_id} revoked")


@gates.command("list")
@db_option
@json_option
@hq_errors
def gates_list(db: str | None, as_json: bool) -> None:
    """Every gate: entries held, chain position, alerts, last contact."""
    rows = gate_admin.list_gates(open_db(db))
    if as_json:
        for row in rows:
            click.echo(json.dumps(row.__dict__))
        return
    for row in rows:
        state = f"revoked {row.revoked_at}" if row.revoked_at else f"last seen {row.last_seen_at or 'never'}"
        click.echo(f"{row.gate_id}: {row.entries} entries, chain #{row.chain_seq}, {row.alerts} alerts, {state}")


@click.command()
@click.option("--gate", "gate_id", help="Only this gate's alerts.")
@db_option
@json_option
@hq_errors
def alerts(gate_id: str | None, db: str | None, as_json: bool) -> None:
    """Problems found in gates' histories: gaps, edited entries, broken or rewritten chains, refused entries."""
    for row in gate_admin.list_alerts(open_db(db), gate_id):
        click.echo(json.dumps(row) if as_json else f"{row['created_at']} {row['gate']} #{row['seq']} {row['kind']}: {row['detail']}")
