"""`pocket-kiosk enroll` and `sync`: the gate's link with district HQ, from the command line.

The HTTP client is imported only when a command talks to HQ, so the other commands and a kiosk start do not pay
for it.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

import click

from kiosk.cli.options import config_option, existing_store, gate_config, json_option
from kiosk.cli.output import emit, friendly_errors
from kiosk.config import KioskConfig, config_path
from kiosk.store import entries_phrase
from kiosk.uplink.state import SyncState
from kiosk.uplink.status import Connection, SyncProgress
from kiosk.uplink.status_text import status_json, status_line
from sync.core.escaping import visible
from sync.core.i18n import _


@click.command()
@click.option("--hq", "hq_url", required=True, help="HQ's address, e.g. https://hq.example.org:8443.")
@click.option(
    "--token",
    required=True,
    help="This gate's token as printed once by `pocket-hq gates add`; '-' reads it from standard input (so it stays "
    "out of the shell's history and the process list).",
)
@click.option("--fingerprint", help="HQ's signing-key fingerprint (from `pocket-hq gates add`), checked before pinning.")
@click.option(
    "--tls-fingerprint",
    help="HQ's TLS certificate fingerprint (from `pocket-hq gates add`): the certificate is pinned only if it matches.",
)
@click.option(
    "--insecure-http",
    is_flag=True,
    help="Allow a plain http:// HQ on another machine (the token and entries then cross the network unprotected).",
)
@click.option("--no-sync", is_flag=True, help="Only enrol; skip the first sync.")
@config_option
@friendly_errors
def enroll(
    hq_url: str,
    token: str,
    fingerprint: str | None,
    tls_fingerprint: str | None,
    insecure_http: bool,
    no_sync: bool,
    config_file: Path | None,
) -> None:
    """Enrol this gate with district HQ: pin HQ's certificate, check the token, pin HQ's signing key, save them in
    the config, sync.

    The token is kept in a file only this user can read (hq.token beside the config), never in the config. A
    plain http:// HQ is refused, before anything is sent, unless it is on this machine or --insecure-http is given."""
    from kiosk.uplink.enrollment import EnrolmentError
    from kiosk.uplink.enrollment import enroll as enroll_gate

    if (existing := config_path(config_file)) is not None and existing.exists():
        gate_config(existing)  # the keeper's language, from the config being enrolled
    if token == "-":
        if sys.stdin.isatty():
            click.echo(_("Paste the token `pocket-hq gates add` printed, then Enter:"), err=True)
        token = sys.stdin.readline().strip()
    try:
        done = enroll_gate(
            config_file,
            hq_url,
            token,
            expected_fingerprint=fingerprint,
            expected_certificate=tls_fingerprint,
            insecure_http=insecure_http,
        )
    except EnrolmentError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        _("enrolled gate {gate} with {url}; settings saved in {config}").format(
            gate=done.gate_id, url=done.hq_url, config=done.config_file
        )
    )
    pinned = _("HQ signing key pinned: {fingerprint}").format(fingerprint=done.fingerprint)
    click.echo(pinned + (_(" (replaces the previous key)") if done.key_changed else ""))
    if done.certificate is not None:
        click.echo(_("HQ certificate pinned: {certificate}").format(certificate=done.certificate))
    elif insecure_http:
        click.echo(_("warning: HQ is reached over plain http: nothing on the wire is protected"), err=True)
    if not no_sync:
        _sync_once(done.config, as_json=False)


@click.command()
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
    "--export",
    "export_dir",
    metavar="DIR",
    type=click.Path(path_type=Path, file_okay=False, exists=True, writable=True),
    help="No network: sync by USB stick mounted at DIR. Takes in HQ's newest bundle and receipts found there, then "
    "writes the entries HQ has not acknowledged for `pocket-hq sync-import`.",
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
    export_dir: Path | None,
    config_file: Path | None,
    as_json: bool,
) -> None:
    """Upload the entry log to HQ and fetch HQ's lists; without --once, keep doing so every sync interval
    (the kiosk does this by itself in the background) until Ctrl-C.

    An entry HQ refuses (say, a sequence number HQ holds as another entry after the gate database was put
    back from a backup) is kept here, counted as waiting and named in the status until it is dealt with:
    --refused lists them (with --json, whole, for the district), --retry-refused sends them again,
    --dismiss-refused stops reporting them once the district has them.

    With --export DIR, for a gate with no network: carry the stick to HQ (`pocket-hq sync-import FILE`) and back,
    then run it again; the gate counts entries as delivered only when it reads HQ's receipt from the stick."""
    from kiosk.uplink.client import SyncService

    config = gate_config(config_file)
    if export_dir is not None:
        _stick_visit(config, export_dir, as_json)
        return
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
        raise click.ClickException(
            _("this gate is not enrolled with HQ yet: run `pocket-kiosk enroll --hq URL --token TOKEN`")
        )
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
    with existing_store(config, None, read_only=change is None) as store:
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
            again = entries_phrase(state.retry_refused())
            click.echo(_("{entries} HQ refused will go again at the next sync").format(entries=again), err=True)
        elif change == "dismiss":
            dismissed = entries_phrase(state.dismiss_refused())
            click.echo(_("{entries} HQ refused no longer reported").format(entries=dismissed), err=True)
        elif not refused:
            click.echo(_("HQ has refused no entry of this gate"), err=True)


def _stick_visit(config: KioskConfig, folder: Path, as_json: bool) -> None:
    """One visit of the sync stick (`kiosk.uplink.stick`); exits 1 when a file on it was refused."""
    from kiosk.uplink.client import SyncError
    from kiosk.uplink.stick import sync_by_stick

    try:
        visit = sync_by_stick(config, folder)
    except SyncError as exc:
        raise click.ClickException(str(exc)) from exc
    for problem in visit.problems:
        click.echo(_("refused: {problem}").format(problem=visible(problem, limit=2000)), err=True)
    if visit.bundle_change is not None:
        click.echo(_("lists from the stick applied: bundle version {version}").format(version=visit.bundle_change.version),
                   err=True)
    record = {"export": str(visit.export), "exported": visit.exported, "acknowledged": visit.acknowledged,
              "cursor": visit.cursor, "bundle_version": visit.bundle_change.version if visit.bundle_change else None,
              "problems": visit.problems}
    emit(record, as_json, _("HQ acknowledged {acknowledged} (through #{cursor}); {exported} written to {file}").format(
        acknowledged=entries_phrase(visit.acknowledged), cursor=visit.cursor,
        exported=entries_phrase(visit.exported), file=visit.export))
    if visit.problems:
        raise SystemExit(1)


def _sync_once(config: KioskConfig, as_json: bool) -> None:
    """One sync with progress on stderr for a large backlog; exits 1 unless everything reached HQ."""
    from kiosk.uplink.client import SyncService

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
            click.echo(_("uploaded {sent}/{total} entries").format(sent=progress.sent, total=progress.total), err=True)
            self._shown = progress.sent

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
