"""`pocket-hq`: the district's command line. Issuer keys and codes, the HQ server, gate enrolment, and the
lists HQ publishes to gates (rosters, red/yellow list, passes, policy, trusted keys).

Codes issued here are what demos and tests scan, so they go through exactly the path real use does. Server
and list commands share `--db`, `--signing-key` and `--district-key`, which default to the POCKET_HQ_*
environment variables (see sync/hq/settings.py), so an operator sets them once.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from importlib import metadata
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
import segno
from pydantic import ValidationError

from kiosk.cli_types import UTC_TIME
from kiosk.codes import Colour
from kiosk.codes.keys import DISTRICT_KEY_FILE, TRUST_SUBDIR, IssuerKeyError, create_issuer_keys, load_issuer_key
from kiosk.codes.pgc import issue_code
from kiosk.identity import DistrictKeyError, load_district_key, mask_name, resident_id_problem, subject_hash
from kiosk.policy import closest_policy_key
from kiosk.roster import RosterError
from kiosk.text import visible
from sync.bundle import SigningKeyError, create_signing_key, fingerprint, load_signing_key, public_pem
from sync.hq import gates as gate_admin
from sync.hq import lists
from sync.hq.db import DatabaseError, HqDatabase
from sync.hq import staff, stats, uploads
from sync.hq.retention import purge as purge_entries
from sync.hq.settings import HqSettings
from sync.protocol import ISSUER_PUBLIC_KEY, TRUST_FILE

P = ParamSpec("P")
R = TypeVar("R")
LOAD_PROGRESS_ROWS = 100_000
"""`roster load` and `colour-list load` say how far they are every this many rows."""
HQ_ERRORS = (
    DatabaseError,
    SigningKeyError,
    gate_admin.GateError,
    lists.ListError,
    RosterError,
    DistrictKeyError,
    staff.StaffError,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pocket-gate")
def main() -> None:
    """Pocket Gate at district HQ: keys and codes, the HQ server, gates and the lists they receive."""


@main.group()
def keys() -> None:
    """Manage the issuer keys that sign health codes."""


@keys.command("init")
@click.option("--dir", "folder", required=True, type=click.Path(path_type=Path, file_okay=False), help="Keys folder to create.")
@click.option(
    "--alg",
    type=click.Choice(["Ed25519", "ES256"]),
    default="Ed25519",
    show_default=True,
    help="Signature algorithm of the new issuer key.",
)
def keys_init(folder: Path, alg: str) -> None:
    """Create an issuer key pair and the district key in a new folder.

    The private key stays in the folder; give gates the trust/ subfolder (--trust) and district.key."""
    try:
        kid = create_issuer_keys(folder, alg)  # type: ignore[arg-type]
    except (IssuerKeyError, DistrictKeyError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"issuer key {kid.hex()} ({alg}) created in {folder}")
    click.echo(f"gates trust: {folder / TRUST_SUBDIR}   district key: {folder / DISTRICT_KEY_FILE}")


@main.command()
@click.option("--keys", "folder", required=True, type=click.Path(path_type=Path, file_okay=False), help="Keys folder from `keys init`.")
@click.option("--id", "id_number", required=True, help="The holder's ID number (hashed; never stored in the code).")
@click.option("--doc-type", default="resident-id", show_default=True, help="Kind of ID document; other kinds skip the check digit.")
@click.option("--name", required=True, help="The holder's name (masked in the code unless --no-mask).")
@click.option("--no-mask", is_flag=True, help="Put the name in the code as given (it must already be masked).")
@click.option("--colour", type=click.Choice([c.value for c in Colour]), required=True, help="Health-code colour.")
@click.option("--hours", type=click.FloatRange(min=0.01, max=24 * 366), default=24.0, show_default=True, help="Validity from issue, in hours.")
@click.option("--issued-at", type=UTC_TIME, help="Issue time, ISO 8601 (default now; UTC if no offset).")
@click.option("--tested-at", type=UTC_TIME, help="Time of the last negative nucleic-acid test, ISO 8601.")
@click.option("--travel-risk/--no-travel-risk", default=None, help="Stayed in a medium/high risk area in the last 14 days.")
@click.option("--issuer", default="district-hq", show_default=True, help="Issuer name put in the code.")
@click.option("--png", type=click.Path(path_type=Path, dir_okay=False), help="Also write the QR code as a PNG image.")
@click.option("--scale", type=click.IntRange(1, 40), default=6, show_default=True, help="Pixels per QR module in the PNG.")
def issue(
    folder: Path,
    id_number: str,
    doc_type: str,
    name: str,
    no_mask: bool,
    colour: str,
    hours: float,
    issued_at: datetime | None,
    tested_at: datetime | None,
    travel_risk: bool | None,
    issuer: str,
    png: Path | None,
    scale: int,
) -> None:
    """Issue a signed health code and print its text (and write its QR image with --png)."""
    if doc_type == "resident-id" and (problem := resident_id_problem(id_number)):
        raise click.BadParameter(problem, param_hint="--id")
    try:
        key = load_issuer_key(folder)
        district_key = load_district_key(folder / DISTRICT_KEY_FILE)
    except (IssuerKeyError, DistrictKeyError) as exc:
        raise click.ClickException(str(exc)) from exc
    start = issued_at or datetime.now(UTC)
    try:
        text = issue_code(
            key,
            issuer=issuer,
            subject=subject_hash(district_key, id_number, doc_type),
            name=name if no_mask else mask_name(name),
            colour=Colour(colour),
            issued_at=start,
            expires_at=start + timedelta(hours=hours),
            negative_test_at=tested_at,
            travel_risk=travel_risk,
        )
    except ValidationError as exc:
        raise click.ClickException(f"cannot issue: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}") from exc
    click.echo(text)
    if png is not None:
        segno.make(text, error="m").save(str(png), scale=scale, border=4)
        click.echo(f"QR image written to {png}", err=True)


# -- shared options ------------------------------------------------------------------------------------------


def hq_errors(func: Callable[P, R]) -> Callable[P, R]:
    """HQ's own errors become `Error: ...` and exit status 1, never a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except HQ_ERRORS as exc:
            raise click.ClickException(str(exc)) from exc
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise click.ClickException(f"invalid setting: {problems}") from exc

    return wrapper


db_option = click.option(
    "--db", help="HQ database: a SQLite file path or a postgresql:// URL (default: $POCKET_HQ_DB or hq.db)."
)
signing_key_option = click.option(
    "--signing-key",
    "signing_key_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Bundle-signing private key (default: $POCKET_HQ_SIGNING_KEY_FILE or hq-signing.key.pem).",
)
district_key_option = click.option(
    "--district-key",
    "district_key_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="District key that hashes ID numbers (default: $POCKET_HQ_DISTRICT_KEY_FILE).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def settings_from(**overrides: Any) -> HqSettings:
    """HqSettings from the environment, with the options that were given on top."""
    return HqSettings(**{key: value for key, value in overrides.items() if value is not None})


def open_db(db: str | None) -> HqDatabase:
    database = HqDatabase(settings_from(db=db).db)
    database.upgrade()
    return database


def district_key(district_key_file: Path | None) -> bytes:
    path = settings_from(district_key_file=district_key_file).district_key_file
    if path is None:
        raise click.UsageError("give --district-key FILE (or set POCKET_HQ_DISTRICT_KEY_FILE): ID numbers must be hashed")
    return load_district_key(path)


# -- server --------------------------------------------------------------------------------------------------


@main.command()
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
@click.option("--secure-cookies", is_flag=True, default=None, help="Send the staff session cookie over HTTPS only (behind TLS).")
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
    secure_cookies: bool | None,
    log_level: str,
) -> None:
    """Run the HQ server: the API gates sync with, and the staff dashboard at / (migrates the database first).

    The dashboard needs the district key to trace by ID number, load lists and issue passes; staff sign in with
    accounts made by `pocket-hq users add`."""
    # Imported here: the web stack is not needed by (and would slow down) every other command.
    from sync.hq.app import create_app
    from sync.hq.server import serve as run_server

    settings = settings_from(
        db=db,
        signing_key_file=signing_key_file,
        district_key_file=district_key_file,
        retention_days=retention_days,
        rate_limit=rate_limit,
        stale_after_minutes=stale_minutes,
        timezone=timezone,
        secure_cookies=secure_cookies,
    )
    app = create_app(settings)
    hq = app.state.hq
    click.echo(f"HQ database {hq.db.display}; signing key {fingerprint(hq.signing_key)}", err=True)
    if settings.district_key_file is None:
        click.echo("warning: no --district-key: the dashboard cannot trace by ID number, load lists or issue passes", err=True)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo(f"dashboard: http://{shown}:{port}/ (accounts: pocket-hq users add NAME --role admin)", err=True)
    run_server(app, host, port, log_level)


@main.group("db")
def db_group() -> None:
    """HQ's database schema."""


@db_group.command("upgrade")
@db_option
@hq_errors
def db_upgrade(db: str | None) -> None:
    """Create or migrate HQ's database to the newest schema (serve does this too)."""
    database = open_db(db)
    click.echo(f"{database.display}: schema is current")


@main.group("signing-key")
def signing_key() -> None:
    """HQ's bundle-signing key: gates pin its public half at enrolment and refuse bundles it did not sign."""


@signing_key.command("init")
@signing_key_option
@hq_errors
def signing_key_init(signing_key_file: Path | None) -> None:
    """Create the signing key (never overwrites one: every enrolled gate has pinned it)."""
    path = settings_from(signing_key_file=signing_key_file).signing_key_file
    key = create_signing_key(path)
    click.echo(f"signing key written to {path} (keep it private and backed up)")
    click.echo(f"fingerprint: {fingerprint(key)}")


@signing_key.command("show")
@signing_key_option
@hq_errors
def signing_key_show(signing_key_file: Path | None) -> None:
    """Print the signing key's fingerprint and public half (PEM)."""
    key = load_signing_key(settings_from(signing_key_file=signing_key_file).signing_key_file)
    click.echo(f"fingerprint: {fingerprint(key)}")
    click.echo(public_pem(key), nl=False)


@main.command()
@db_option
@click.option("--days", type=click.IntRange(1, 3650), help="Retention in days (default: $POCKET_HQ_RETENTION_DAYS or 28).")
@hq_errors
def purge(db: str | None, days: int | None) -> None:
    """Delete entries older than the retention period (a running server also does this daily)."""
    settings = settings_from(db=db, retention_days=days)
    done = purge_entries(open_db(db), settings.retention_days)
    click.echo(f"purged {done.entries} entries older than {done.cutoff}")


# -- gates ---------------------------------------------------------------------------------------------------


@main.group()
def gates() -> None:
    """Enrol, list and revoke gates."""


def _print_token(gate_id: str, token: str, signing_key_file: Path | None) -> None:
    click.echo(f"token for gate {gate_id} (shown only now; HQ keeps only its hash):")
    click.echo(token)
    try:
        mark = fingerprint(load_signing_key(settings_from(signing_key_file=signing_key_file).signing_key_file))
    except SigningKeyError as exc:
        click.echo(f"warning: {exc}", err=True)
        return
    click.echo(f"on the gate: pocket-kiosk enroll --hq URL --token {token} --fingerprint {mark}")


@gates.command("add")
@click.argument("gate_id")
@db_option
@signing_key_option
@hq_errors
def gates_add(gate_id: str, db: str | None, signing_key_file: Path | None) -> None:
    """Enrol GATE_ID and print its token once (with the line to run on the gate)."""
    token = gate_admin.add_gate(open_db(db), gate_id)
    _print_token(gate_id, token, signing_key_file)


@gates.command("token")
@click.argument("gate_id")
@db_option
@signing_key_option
@hq_errors
def gates_token(gate_id: str, db: str | None, signing_key_file: Path | None) -> None:
    """Give GATE_ID a new token (a replaced laptop, a leaked token); the old one stops working at once."""
    token = gate_admin.replace_token(open_db(db), gate_id)
    _print_token(gate_id, token, signing_key_file)


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


@main.command()
@click.option("--gate", "gate_id", help="Only this gate's alerts.")
@db_option
@json_option
@hq_errors
def alerts(gate_id: str | None, db: str | None, as_json: bool) -> None:
    """Problems found in gates' histories: gaps, edited entries, broken or rewritten chains, refused entries."""
    for row in gate_admin.list_alerts(open_db(db), gate_id):
        click.echo(json.dumps(row) if as_json else f"{row['created_at']} {row['gate']} #{row['seq']} {row['kind']}: {row['detail']}")


# -- staff ---------------------------------------------------------------------------------------------------


@main.group()
def users() -> None:
    """Staff accounts for the dashboard (viewers trace and watch; admins also change lists, passes, gates)."""


def _new_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


password_stdin_option = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of standard input (for scripts)."
)


@users.command("add")
@click.argument("username")
@click.option(
    "--role", type=click.Choice([r.value for r in staff.Role]), default=staff.Role.VIEWER.value, show_default=True,
    help="viewer: overview, alerts and tracing; admin: also rosters, lists, passes, gates and the audit log.",
)
@password_stdin_option
@db_option
@hq_errors
def users_add(username: str, role: str, password_stdin: bool, db: str | None) -> None:
    """Create the dashboard account USERNAME (asks for its password, at least 12 characters)."""
    database = open_db(db)
    user = staff.add_user(database, username, _new_password(password_stdin), staff.Role(role))
    click.echo(f"user {user.username} ({user.role.value}) created")


@users.command("password")
@click.argument("username")
@password_stdin_option
@db_option
@hq_errors
def users_password(username: str, password_stdin: bool, db: str | None) -> None:
    """Give USERNAME a new password (signs out every session of the account)."""
    staff.set_password(open_db(db), username, _new_password(password_stdin))
    click.echo(f"password of {username} changed; its sessions have ended")


@users.command("role")
@click.argument("username")
@click.argument("role", type=click.Choice([r.value for r in staff.Role]))
@db_option
@hq_errors
def users_role(username: str, role: str, db: str | None) -> None:
    """Make USERNAME a viewer or an admin (from its next page)."""
    staff.set_role(open_db(db), username, staff.Role(role))
    click.echo(f"{username} is now {role}")


@users.command("disable")
@click.argument("username")
@db_option
@hq_errors
def users_disable(username: str, db: str | None) -> None:
    """Stop USERNAME signing in and end its sessions at once (the audit log keeps its name)."""
    staff.disable_user(open_db(db), username)
    click.echo(f"{username} disabled")


@users.command("enable")
@click.argument("username")
@db_option
@hq_errors
def users_enable(username: str, db: str | None) -> None:
    """Let a disabled USERNAME sign in again."""
    staff.enable_user(open_db(db), username)
    click.echo(f"{username} enabled")


@users.command("list")
@db_option
@json_option
@hq_errors
def users_list(db: str | None, as_json: bool) -> None:
    """Every staff account, its role and whether it is disabled."""
    for user in staff.list_users(open_db(db)):
        if as_json:
            click.echo(json.dumps({"username": user.username, "role": user.role.value, "created_at": user.created_at,
                                   "disabled_at": user.disabled_at}))
        else:
            state = f"disabled {user.disabled_at}" if user.disabled_at else "active"
            click.echo(f"{user.username}: {user.role.value}, {state}")


@main.command("stats-rebuild")
@db_option
@hq_errors
def stats_rebuild(db: str | None) -> None:
    """Recompute the dashboard's hourly statistics from the entries held (after a restore or a bulk load)."""
    database = open_db(db)
    with database.begin() as conn:
        stats.rebuild(conn)
    click.echo("statistics rebuilt")


# -- lists ---------------------------------------------------------------------------------------------------


@main.group()
def roster() -> None:
    """Each gate's residents (they pass without an HQ pass)."""


@roster.command("load")
@click.argument("gate_id")
@click.argument("csv_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@db_option
@district_key_option
@hq_errors
def roster_load(gate_id: str, csv_file: Path, db: str | None, district_key_file: Path | None) -> None:
    """Replace GATE_ID's roster with CSV_FILE (id_number,name,unit); ID numbers are hashed, names masked.

    The file is checked whole before anything changes (one bad line refuses it); progress goes to stderr."""
    key = district_key(district_key_file)
    upload, version = _load_list(open_db(db), uploads.Kind.ROSTER, csv_file, key, settings_from(db=db), gate_id)
    residents = (upload.added or 0) + (upload.changed or 0) + (upload.unchanged or 0)
    click.echo(f"roster of {gate_id}: {residents} resident{'' if residents == 1 else 's'}; "
               f"{_changes(upload)} (bundle version {version})")


@main.group("colour-list")
def colour_list() -> None:
    """The district's red/yellow list: it overrides the colour a person's code shows."""


@colour_list.command("load")
@click.argument("csv_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@db_option
@district_key_option
@hq_errors
def colour_list_load(csv_file: Path, db: str | None, district_key_file: Path | None) -> None:
    """Replace the red/yellow list with CSV_FILE (id_number,colour,note; colour red or yellow).

    The file is checked whole before anything changes (one bad line refuses it); progress goes to stderr."""
    key = district_key(district_key_file)
    database = open_db(db)
    upload, version = _load_list(database, uploads.Kind.COLOUR, csv_file, key, settings_from(db=db))
    counts = lists.colour_counts(database)
    click.echo(f"red/yellow list: {counts.get('red', 0)} red, {counts.get('yellow', 0)} yellow; "
               f"{_changes(upload)} (bundle version {version})")


def _load_list(
    db: HqDatabase, kind: uploads.Kind, csv_file: Path, key: bytes, settings: HqSettings, gate: str | None = None
) -> tuple[uploads.Upload, int]:
    """Check a list CSV through the dashboard's staging path (streamed in batches, the same row limit, the same
    refusals; it shows in the dashboard's uploads as the operator's), then apply it; the checked upload and the
    new bundle version."""
    upload = uploads.create(db, kind, csv_file.name, f"{getpass.getuser()} (command line)", gate)
    shown = 0

    def progress(read: int) -> None:
        nonlocal shown
        if read - shown >= LOAD_PROGRESS_ROWS:
            click.echo(f"checked {read:,} rows", err=True)
            shown = read

    checked = uploads.check(db, upload.id, csv_file, key, settings.max_list_rows, progress)
    if checked.state is not uploads.State.READY:
        raise lists.ListError(checked.message)
    return checked, uploads.apply(db, upload.id)


def _changes(upload: uploads.Upload) -> str:
    return f"{upload.added} added, {upload.changed} changed, {upload.removed} removed"


@main.group()
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
    where = f"gate {issued.gate}" if issued.gate else "every gate"
    click.echo(f"{issued.id}: {issued.kind} pass at {where} until {issued.valid_until} (bundle version {issued.version})")


@passes.command("revoke")
@click.argument("pass_id")
@db_option
@hq_errors
def passes_revoke(pass_id: str, db: str | None) -> None:
    """Withdraw PASS_ID (gates drop it at their next sync)."""
    version = lists.revoke_pass(open_db(db), pass_id)
    click.echo(f"{pass_id} revoked (bundle version {version})")


@passes.command("list")
@db_option
@json_option
@hq_errors
def passes_list(db: str | None, as_json: bool) -> None:
    """Every pass, soonest to expire first."""
    for row in lists.list_passes(open_db(db)):
        click.echo(json.dumps(row) if as_json else f"{row['id']}: {row['kind']} at {row['gate'] or 'every gate'} "
                   f"{row['valid_from']} .. {row['valid_until']} {row['note']}")


@main.group()
def policy() -> None:
    """The rules every gate applies (the shape of config/policy.toml)."""


@policy.command("set")
@click.argument("policy_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--yes", is_flag=True, help="Publish without asking when the file has rules this software does not know.")
@db_option
@hq_errors
def policy_set(policy_file: Path, yes: bool, db: str | None) -> None:
    """Publish POLICY_FILE to every gate. It is checked first: a bad value in a rule is refused. A section or
    key this software does not know (a misspelling, or a rule of a newer version) is named, with what it may
    be a misspelling of, and published only when you confirm: gates of this version or older ignore it (their
    settings screen and `sync --status` say so) and keep taking HQ's lists; newer gates apply it."""
    checked = lists.policy_file(policy_file)
    if checked.ignored:
        click.echo(_ignored_warning(checked.ignored), err=True)
        if not yes:
            click.confirm("Publish this policy anyway?", abort=True, err=True)
    version = lists.set_policy(open_db(db), checked)
    click.echo(f"policy published (bundle version {version})")


def _ignored_warning(names: tuple[str, ...]) -> str:
    lines = [
        f"warning: gates running Pocket Gate {metadata.version('pocket-gate')} (this HQ's version) or older do not "
        "know these rules and will ignore them, saying so in their settings and `sync --status`:"
    ]
    for name in names:
        closest = closest_policy_key(name)
        lines.append(f"  {visible(name)}" + (f" (did you mean {closest}?)" if closest else ""))
    return "\n".join(lines)


@policy.command("clear")
@db_option
@hq_errors
def policy_clear(db: str | None) -> None:
    """Stop publishing a policy: gates fall back to their own policy file."""
    version = lists.set_policy(open_db(db), None)
    click.echo(f"policy withdrawn (bundle version {version})")


@policy.command("show")
@db_option
@hq_errors
def policy_show(db: str | None) -> None:
    """Print the published policy as JSON, as gates receive it (or say there is none)."""
    current = lists.current_policy(open_db(db))
    if current is None:
        click.echo("no policy published; gates use their own file")
        return
    click.echo(json.dumps(current.data, indent=2, ensure_ascii=False))
    if current.ignored:
        click.echo(_ignored_warning(current.ignored), err=True)


@main.group()
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
        click.echo(f"trusted {doc.type} {doc.id} ({doc.label})")
    click.echo(f"bundle version {version}")


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
    click.echo(f"{doc_id} removed (bundle version {version})")


@trust.command("list")
@db_option
@hq_errors
def trust_list(db: str | None) -> None:
    """Every trust document HQ publishes."""
    for doc in lists.list_trust(open_db(db)):
        click.echo(f"{doc.type} {doc.id} {doc.label}")
