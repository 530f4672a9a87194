"""`pocket-kiosk`: the gate's command line. With no command it starts the kiosk app (`--demo` for the built-in
demo); the commands scan, check and maintain a gate headless, and manage the operators who sign in.

Every command and option carries help text (a test enforces it). Errors are one readable line on stderr and a
non-zero exit, never a traceback. The Textual app is imported only when it is started, so the headless
commands stay quick and never touch the terminal UI; likewise the HTTP client (sync, enroll), so a kiosk
start does not pay for it.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
import cv2

from kiosk.camera import CaptureThread, SourceError, open_source
from kiosk.cli_types import TEMPERATURE, UTC_TIME
from kiosk.codes.trust import TrustError, read_trust_file
from kiosk.config import ConfigError, KioskConfig, load_config
from kiosk.gate import open_gate
from kiosk.identity import DistrictKeyError, load_district_key
from kiosk.operators import OperatorBook, OperatorError
from kiosk.policy import Direction, PolicyError
from kiosk.report import assessment_json, human_line, outcome_json
from kiosk.roster import RosterError, read_roster
from kiosk.scanner import Debouncer, Scanner
from kiosk.store import GateStore, StoreError
from kiosk.text import entries_phrase, visible
from kiosk.trust_store import import_document, list_documents, remove_document
from sync.report import status_json, status_line
from sync.retention import purge_entries
from sync.state import SyncState
from sync.status import Connection, SyncProgress

P = ParamSpec("P")
R = TypeVar("R")
EXPECTED_ERRORS = (
    ConfigError,
    PolicyError,
    TrustError,
    DistrictKeyError,
    SourceError,
    StoreError,
    RosterError,
    OperatorError,
)

QR_MAX_CHARS = 7089
"""The most one QR symbol holds (version 40, numeric mode): `check` shows every decoded text whole."""


def friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the gate's own errors into `Error: ...` and exit status 2."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except EXPECTED_ERRORS as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def emit(record: dict[str, Any], as_json: bool, human: str) -> None:
    click.echo(json.dumps(record, ensure_ascii=True) if as_json else human)


config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Gate configuration file (default: $POCKET_GATE_CONFIG or ~/.config/pocket-gate/kiosk.toml).",
)
db_option = click.option(
    "--db", type=click.Path(path_type=Path, dir_okay=False), help="Gate database file (overrides the config)."
)
trust_option = click.option(
    "--trust",
    "trust_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder of trusted issuer public keys (overrides the config).",
)
check_trust_option = click.option(
    "--trust",
    "trust_path",
    type=click.Path(path_type=Path, exists=True),
    help="Trusted keys: a folder (overrides the config), or ONE file to verify against that file alone: PEM or "
    "DER X.509 document-signer certificates, PEM public keys, a JWKS or a SMART Health Card issuer directory.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object per line.")
direction_option = click.option(
    "--direction",
    type=click.Choice([d.value for d in Direction]),
    default=Direction.IN.value,
    show_default=True,
    help="Whether people are entering or leaving.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
@click.version_option(package_name="pocket-gate")
@click.option("--demo", is_flag=True, help="Run the kiosk on built-in sample frames: no webcam or configuration needed.")
@config_option
@db_option
@click.option("--source", help="Camera for the kiosk (overrides the config): webcam index, video, folder or URL.")
@click.pass_context
@friendly_errors
def main(ctx: click.Context, demo: bool, config_file: Path | None, db: Path | None, source: str | None) -> None:
    """Pocket Gate at the gate: scan health codes, judge them by policy and log every entry, offline.

    With no command, start the kiosk: a terminal app for the gate keeper (sign in, then show codes to the
    camera). `pocket-kiosk --demo` plays sample codes of every kind, with its own keys, lists and log."""
    if ctx.invoked_subcommand is not None:
        return
    from kiosk.ui.launch import run_kiosk  # the Textual app loads only when it runs

    if demo:
        from kiosk.demo import demo_config

        config = demo_config(db, source=source)
    else:
        config = load_config(config_file)
        overrides = {key: value for key, value in (("database", db), ("source", source)) if value is not None}
        config = config.model_copy(update=overrides) if overrides else config
    click.echo(run_kiosk(config, demo=demo, config_file=config_file), err=True)


@main.command()
@click.option("--source", help="Camera: webcam index, video file, image folder or glob, or rtsp:// URL.")
@config_option
@db_option
@trust_option
@direction_option
@click.option("--temperature", type=TEMPERATURE, help="Temperature in °C to judge every scan with (30-45).")
@click.option("--operator", help="Operator id recorded on the entries (overrides the config).")
@json_option
@friendly_errors
def scan(
    source: str | None,
    config_file: Path | None,
    db: Path | None,
    trust_dir: Path | None,
    direction: str,
    temperature: float | None,
    operator: str | None,
    as_json: bool,
) -> None:
    """Run the whole pipeline headless: read frames, decode, verify, judge and log each code.

    Prints one line per verdict; stops at the end of a file source or on Ctrl-C."""
    config = load_config(config_file)
    gate = open_gate(config, db=db, trust_dir=trust_dir)
    assert gate.store is not None
    purged = purge_entries(config, gate.store)
    if purged.purged or purged.kept_unsent:
        click.echo(purged.describe(), err=True)
    capture = CaptureThread(open_source(source or config.source)).start()
    scanner, debouncer = Scanner(), Debouncer(config.debounce_seconds)
    frames = logged = 0
    try:
        for frame in capture.frames():
            frames += 1
            result = scanner.scan(frame.image)
            for text in result.texts:
                if not debouncer.is_new(text):
                    continue
                outcome = gate.present_code(
                    text,
                    direction=Direction(direction),
                    temperature=temperature,
                    operator=operator if operator is not None else config.operator,
                )
                logged += outcome.entry is not None
                record = outcome_json(outcome) | {"frame": visible(frame.label), "decoder": result.decoder}
                emit(record, as_json, human_line(outcome.assessment))
    except KeyboardInterrupt:
        pass
    finally:
        capture.stop()
        gate.store.close()
    skipped = getattr(capture.source, "skipped", [])
    for path in skipped:
        click.echo(f"skipped unreadable image {visible(str(path))}", err=True)
    click.echo(f"{frames} frames read, {entries_phrase(logged)} logged", err=True)
    if capture.error is not None:
        raise click.ClickException(str(capture.error))


@main.command()
@click.argument("texts", nargs=-1)
@click.option(
    "--image",
    "images",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Image file to decode (repeatable).",
)
@config_option
@db_option
@check_trust_option
@click.option("--at", "at", type=UTC_TIME, help="Judge as of this ISO 8601 time instead of now (UTC if no offset).")
@direction_option
@click.option("--temperature", type=TEMPERATURE, help="Temperature in °C to judge with (30-45).")
@json_option
@friendly_errors
def check(
    texts: tuple[str, ...],
    images: tuple[Path, ...],
    config_file: Path | None,
    db: Path | None,
    trust_path: Path | None,
    at: datetime | None,
    direction: str,
    temperature: float | None,
    as_json: bool,
) -> None:
    """Decode and verify codes and show why each passes or fails, without logging anything.

    Give code TEXTS, or images with --image. Uses the gate's roster and lists when its database exists.
    The JSON gives each verification step on its own: signature_valid, expired, key_usage_ok and
    schema_valid (true, false, or null where the step was not reached). Exit status 1 when an image
    file cannot be read (every other image is still reported); a refused code is a result, status 0."""
    if not texts and not images:
        raise click.UsageError("give at least one code text or --image FILE")
    config = load_config(config_file)
    is_file = trust_path is not None and trust_path.is_file()
    gate = open_gate(
        config,
        db=db,
        trust_dir=None if is_file else trust_path,
        trust_file=trust_path if is_file else None,
        read_only=True,
    )
    now = at or datetime.now(UTC)
    judge_kwargs = {"direction": Direction(direction), "temperature": temperature, "now": now}
    scanner = Scanner()
    unreadable = 0
    try:
        for text in texts:
            assessment = gate.assess_code(text, **judge_kwargs)
            emit(assessment_json(assessment), as_json, human_line(assessment))
        for path in images:
            record: dict[str, Any] = {"image": str(path), "texts": [], "decoder": None}
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                record["error"] = "image cannot be read"
                emit(record, as_json, f"ERROR   {visible(str(path))}: image cannot be read")
                unreadable += 1
                continue
            result = scanner.scan(image)
            record |= {"texts": [visible(t, QR_MAX_CHARS) for t in result.texts], "decoder": result.decoder or None}
            if not result.texts:
                record["error"] = "no QR code found"
                emit(record, as_json, f"NONE    {visible(str(path))}: no QR code found")
                continue
            assessments = [gate.assess_code(t, **judge_kwargs) for t in result.texts]
            record |= assessment_json(assessments[0])
            if len(assessments) > 1:
                record["more"] = [assessment_json(a) for a in assessments[1:]]
            emit(record, as_json, "\n".join(f"{visible(str(path))}: {human_line(a)}" for a in assessments))
    finally:
        if gate.store is not None:
            gate.store.close()
    if unreadable:
        raise SystemExit(1)


@main.command()
@config_option
@db_option
@friendly_errors
def purge(config_file: Path | None, db: Path | None) -> None:
    """Delete entries older than the configured retention period (also done on every start).

    An enrolled gate keeps old entries HQ has not acknowledged yet; they go at the next sync."""
    config = load_config(config_file)
    with _store(config, db) as store:
        done = purge_entries(config, store)
    click.echo(done.describe())


@main.command()
@config_option
@db_option
@friendly_errors
def verify(config_file: Path | None, db: Path | None) -> None:
    """Check the entry log's hash chain and the database file; exit status 1 if any entry was edited, removed or
    moved, or the file is damaged."""
    config = load_config(config_file)
    with _store(config, db, read_only=True) as store:
        damaged = store.file_problems()
        problems = store.verify()
        count = store.count_entries()
    for text in damaged:
        click.echo(f"database file: {text}")
    for problem in problems:
        click.echo(f"entry {problem.seq}: {problem.kind}: {problem.detail}")
    if damaged or problems:
        raise SystemExit(1)
    click.echo(f"chain intact: {entries_phrase(count)}")


@main.group()
def roster() -> None:
    """The residents this gate lets in (HQ replaces it on every sync once enrolled)."""


@roster.command("import")
@click.argument("csv_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@config_option
@db_option
@friendly_errors
def roster_import(csv_file: Path, config_file: Path | None, db: Path | None) -> None:
    """Replace the roster with CSV_FILE (columns id_number,name,unit); ID numbers are hashed on the way in."""
    config = load_config(config_file)
    if config.district_key_file is None:
        raise click.ClickException("the config names no district_key_file; ID numbers cannot be hashed")
    rows = read_roster(csv_file, load_district_key(config.district_key_file))
    with GateStore(db or config.database, config.gate_id) as store:
        store.replace_table("roster", rows)
    click.echo(f"roster replaced: {len(rows)} residents")


@main.group()
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
    config = load_config(config_file)
    with GateStore(db or config.database, config.gate_id) as store:
        for path in files:
            summary = import_document(
                store, read_trust_file(path), name=name or path.name, origin="file", shc_issuer=shc_issuer
            )
            click.echo(f"imported {visible(summary.describe())}")
        count = len(list_documents(store))
    click.echo(f"trust list: {count} documents in {db or config.database}")


@trust.command("list")
@config_option
@db_option
@json_option
@friendly_errors
def trust_list(config_file: Path | None, db: Path | None, as_json: bool) -> None:
    """Show the trust documents in the gate database, where each came from and how fresh the list is."""
    config = load_config(config_file)
    policy = config.load_policy()
    now = datetime.now(UTC)
    with _store(config, db, read_only=True) as store:
        documents = list_documents(store)
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
        click.echo("no trust documents stored; import some with `pocket-kiosk trust import FILE`", err=True)
        return
    age_hours = (now - max(doc.confirmed_at for doc in documents)).total_seconds() / 3600
    limit = policy.freshness.keys_max_age_hours
    stale = f"STALE (limit {limit:g} h; codes then {policy.freshness.stale_keys.value})"
    state = stale if age_hours > limit else "fresh"
    click.echo(f"trust list last refreshed {age_hours:.0f} h ago: {state}", err=True)


@trust.command("remove")
@click.argument("name")
@config_option
@db_option
@friendly_errors
def trust_remove(name: str, config_file: Path | None, db: Path | None) -> None:
    """Forget the trust document stored as NAME (see `trust list`)."""
    config = load_config(config_file)
    with _store(config, db) as store:
        removed = remove_document(store, name)
    if not removed:
        raise click.ClickException(f"no trust document named {visible(name)!r}")
    click.echo(f"removed {visible(name)}")


@main.group()
def operators() -> None:
    """The gate keepers who may sign in at the kiosk (PINs are stored only as salted hashes)."""


@operators.command("add")
@click.argument("operator_id")
@click.option("--name", required=True, help="The keeper's name, shown on screen and in handover summaries.")
@click.option(
    "--pin",
    prompt="PIN (4-12 digits)",
    hide_input=True,
    confirmation_prompt=True,
    help="The PIN; asked for (twice, hidden) when not given. Avoid giving it here: it stays in shell history.",
)
@click.option("--replace", is_flag=True, help="Reset the name and PIN of an operator who already exists.")
@config_option
@db_option
@friendly_errors
def operators_add(operator_id: str, name: str, pin: str, replace: bool, config_file: Path | None, db: Path | None) -> None:
    """Add OPERATOR_ID (letters, digits, '.', '_', '-') who signs in with a PIN."""
    config = load_config(config_file)
    with OperatorBook(db or config.database) as book:
        operator = book.add(operator_id, name, pin, replace=replace)
    click.echo(f"operator {operator.id} ({visible(operator.name)}) can sign in at gate {config.gate_id}")


@operators.command("list")
@config_option
@db_option
@friendly_errors
def operators_list(config_file: Path | None, db: Path | None) -> None:
    """List the operators who may sign in."""
    config = load_config(config_file)
    with OperatorBook(db or config.database) as book:
        found = book.operators()
    for operator in found:
        click.echo(f"{operator.id}\t{visible(operator.name)}")
    if not found:
        click.echo("no operators yet: add one with `pocket-kiosk operators add ID --name NAME`", err=True)


@operators.command("remove")
@click.argument("operator_id")
@config_option
@db_option
@friendly_errors
def operators_remove(operator_id: str, config_file: Path | None, db: Path | None) -> None:
    """Stop OPERATOR_ID from signing in (entries they logged keep their id)."""
    config = load_config(config_file)
    with OperatorBook(db or config.database) as book:
        book.remove(operator_id)
    click.echo(f"operator {operator_id} can no longer sign in")


@main.command()
@click.option("--hq", "hq_url", required=True, help="HQ's address, e.g. https://hq.example.org or http://127.0.0.1:8000.")
@click.option(
    "--token",
    required=True,
    help="This gate's token as printed once by `pocket-hq gates add`; '-' reads it from standard input.",
)
@click.option("--fingerprint", help="HQ's signing-key fingerprint (from `pocket-hq gates add`), checked before pinning.")
@click.option("--no-sync", is_flag=True, help="Only enrol; skip the first sync.")
@config_option
@friendly_errors
def enroll(hq_url: str, token: str, fingerprint: str | None, no_sync: bool, config_file: Path | None) -> None:
    """Enrol this gate with district HQ: check the token, pin HQ's signing key, save both in the config, sync.

    The token is kept in a file only this user can read (hq.token beside the config), never in the config."""
    from sync.enrollment import EnrolmentError
    from sync.enrollment import enroll as enroll_gate

    if token == "-":
        token = sys.stdin.readline().strip()
    try:
        done = enroll_gate(config_file, hq_url, token, expected_fingerprint=fingerprint)
    except EnrolmentError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"enrolled gate {done.gate_id} with {done.hq_url}; settings saved in {done.config_file}")
    click.echo(f"HQ signing key pinned: {done.fingerprint}" + (" (replaces the previous key)" if done.key_changed else ""))
    if not no_sync:
        _sync_once(done.config, as_json=False)


@main.command()
@click.option("--once", is_flag=True, help="Sync once and exit: status 0 when HQ has everything, 1 when not.")
@click.option(
    "--status",
    "show_status",
    is_flag=True,
    help="Show the sync status from the gate's database; no network. Exit status 1 when it is an error.",
)
@click.option(
    "--refused", "show_refused", is_flag=True, help="List the entries HQ refused (kept here), with HQ's reasons."
)
@click.option(
    "--retry-refused",
    is_flag=True,
    help="Send the entries HQ refused again at the next sync (once the cause is dealt with at HQ or here).",
)
@click.option(
    "--dismiss-refused",
    is_flag=True,
    help="Stop reporting the entries HQ refused, once the district has them another way (from --refused --json).",
)
@config_option
@json_option
@friendly_errors
def sync(
    once: bool,
    show_status: bool,
    show_refused: bool,
    retry_refused: bool,
    dismiss_refused: bool,
    config_file: Path | None,
    as_json: bool,
) -> None:
    """Upload the entry log to HQ and fetch HQ's lists; without --once, keep doing so every sync interval
    (the kiosk does this by itself in the background) until Ctrl-C.

    An entry HQ refuses (say, a sequence number HQ holds as another entry after the gate database was put
    back from a backup) is kept here, counted as waiting and named in the status until it is dealt with:
    --refused lists them (with --json, whole, for the district), --retry-refused sends them again,
    --dismiss-refused stops reporting them once the district has them."""
    from sync.client import SyncService

    config = load_config(config_file)
    if show_status:
        service = SyncService(config)
        try:
            status = service.status()
        finally:
            service.close()
        emit(status_json(status), as_json, status_line(status))
        if status.connection is Connection.ERROR:
            raise SystemExit(1)
        return
    if show_refused or retry_refused or dismiss_refused:
        if retry_refused and dismiss_refused:
            raise click.UsageError("--retry-refused and --dismiss-refused do opposite things; give one")
        _refused_entries(config, as_json, change="retry" if retry_refused else "dismiss" if dismiss_refused else None)
        return
    if not config.hq_url:
        raise click.ClickException("this gate is not enrolled with HQ yet: run `pocket-kiosk enroll --hq URL --token TOKEN`")
    if once:
        _sync_once(config, as_json)
        return
    service = SyncService(config)
    try:
        service.run(should_stop=lambda: False, on_status=lambda s: emit(status_json(s), as_json, status_line(s)))
    except KeyboardInterrupt:
        pass
    finally:
        service.close()


def _refused_entries(config: KioskConfig, as_json: bool, *, change: str | None) -> None:
    """List the entries HQ refused (as JSON: each whole, as the gate holds it, for the district); then, with
    `change`, put them back in the upload queue ("retry") or stop reporting them ("dismiss")."""
    with _store(config, None, read_only=change is None) as store:
        state = SyncState(store, migrate=change is not None)
        try:
            refused = state.refused_entries()
        except sqlite3.OperationalError:  # a database that never synced has no record of refusals
            refused = []
        for entry in refused:
            row = store.entries(after_seq=entry.seq - 1, limit=1)
            record = {"seq": entry.seq, "id": entry.id, "ts": entry.ts, "kind": entry.kind,
                      "reason": visible(entry.reason, limit=2000), "refused_at": entry.refused_at.isoformat(),
                      "entry": row[0] if row else None}
            emit(record, as_json, f"#{entry.seq} {visible(entry.id)} logged {visible(entry.ts or '?')}: {entry.kind}: "
                 f"{visible(entry.reason)}")
        if change == "retry":
            click.echo(f"{entries_phrase(state.retry_refused())} HQ refused will go again at the next sync", err=True)
        elif change == "dismiss":
            click.echo(f"{entries_phrase(state.dismiss_refused())} HQ refused no longer reported", err=True)
        elif not refused:
            click.echo("HQ has refused no entry of this gate", err=True)


def _sync_once(config: KioskConfig, as_json: bool) -> None:
    """One sync with progress on stderr for a large backlog; exits 1 unless everything reached HQ."""
    from sync.client import SyncService

    service = SyncService(config)
    reporter = _ProgressReporter(min_total=2 * config.sync_batch_entries)
    try:
        status = service.run_once(progress=reporter)
    finally:
        reporter.finish()
        service.close()
    emit(status_json(status), as_json, status_line(status))
    if not status.online or status.entries_waiting:
        raise SystemExit(1)


class _ProgressReporter:
    """Upload progress on stderr: a bar on a terminal, a line per tenth of the backlog elsewhere (logs)."""

    def __init__(self, min_total: int) -> None:
        self._min_total = min_total
        self._bar: Any = None
        self._shown = 0
        self._tty = sys.stderr.isatty()

    def __call__(self, progress: SyncProgress) -> None:
        if progress.total < self._min_total:
            return
        if self._tty:
            if self._bar is None:
                self._bar = click.progressbar(length=progress.total, label="uploading to HQ", file=sys.stderr)
                self._bar.__enter__()
            self._bar.update(progress.sent - self._shown)
            self._shown = progress.sent
        elif progress.sent * 10 // progress.total > self._shown * 10 // progress.total or progress.sent == progress.total:
            click.echo(f"uploaded {progress.sent}/{progress.total} entries", err=True)
            self._shown = progress.sent

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


def _store(config: KioskConfig, db: Path | None, *, read_only: bool = False) -> GateStore:
    path = db or config.database
    if not path.exists():
        raise StoreError(f"no gate database at {path}")
    return GateStore(path, config.gate_id, read_only=read_only)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
