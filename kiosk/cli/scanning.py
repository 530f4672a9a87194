"""`pocket-kiosk scan` and `check`: the whole pipeline headless, and why a code passes or fails."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import cv2

from kiosk.camera import CaptureThread, open_source
from kiosk.cli.options import check_trust_option, config_option, db_option, direction_option, gate_config, json_option, trust_option
from kiosk.cli.output import emit, friendly_errors
from kiosk.gate import open_gate
from kiosk.verdict_lines import assessment_json, human_line, outcome_json
from kiosk.scan_loop import Presenting, ScanLoop
from kiosk.scanner import Scanner
from kiosk.serial_scanner import SerialScanner, serial_path
from kiosk.store import entries_phrase
from kiosk.uplink.retention import purge_entries
from sync.core.cli_types import TEMPERATURE, UTC_TIME
from sync.core.escaping import visible
from sync.core.policy import Direction
from sync.core.i18n import _

QR_MAX_CHARS = 7089
"""The most one QR symbol holds (version 40, numeric mode): `check` shows every decoded text whole."""


@click.command()
@click.option(
    "--source",
    help="Camera: webcam index, video file, image folder or glob, or rtsp:// URL; or serial:PATH, a serial QR scanner.",
)
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

    Prints one line per verdict; stops at the end of a file source or on Ctrl-C. A serial scanner
    (serial:/dev/ttyACM0) is read until Ctrl-C, reopened when it is unplugged and back."""
    config = gate_config(config_file)
    gate = open_gate(config, db=db, trust_dir=trust_dir)
    assert gate.store is not None
    purged = purge_entries(config, gate.store)
    if purged.purged or purged.kept_unsent:
        click.echo(purged.describe(), err=True)
    loop = ScanLoop(gate, config.debounce_seconds)
    presenting = Presenting(Direction(direction), temperature, operator if operator is not None else config.operator)
    if (port := serial_path(source or config.scanner or None)) is not None:
        try:
            logged = scan_serial(SerialScanner(port), loop, presenting, as_json)
        finally:
            gate.store.close()
        click.echo(_("{logged} logged").format(logged=entries_phrase(logged)), err=True)
        return
    capture = CaptureThread(open_source(source or config.source)).start()
    logged = 0
    try:
        for code in loop.run(capture, lambda: presenting):
            if code.failure is not None:
                raise code.failure
            assert code.outcome is not None
            logged += code.outcome.entry is not None
            record = outcome_json(code.outcome) | {"frame": visible(code.frame.label), "decoder": code.decoder}
            emit(record, as_json, human_line(code.outcome.assessment))
    except KeyboardInterrupt:
        pass
    finally:
        capture.stop()
        gate.store.close()
    skipped = getattr(capture.source, "skipped", [])
    for path in skipped:
        click.echo(_("skipped unreadable image {path}").format(path=visible(str(path))), err=True)
    click.echo(
        _("{frames} frames read, {logged} logged").format(frames=loop.frames, logged=entries_phrase(logged)), err=True
    )
    if capture.error is not None:
        raise click.ClickException(str(capture.error))


def scan_serial(scanner: SerialScanner, loop: ScanLoop, presenting: Presenting, as_json: bool) -> int:
    """Judge and log each code a serial scanner reads, as `scan` does a camera's, until Ctrl-C; the scanner's
    state (opened, unplugged, part of a code dropped) goes to stderr. Returns how many entries were logged."""
    logged = 0
    try:
        for text in scanner.codes(lambda: False, lambda state: click.echo(visible(state.text), err=True)):
            code = loop.read(text, lambda: presenting)
            if code is None:
                continue
            if code.failure is not None:
                raise code.failure
            assert code.outcome is not None
            logged += code.outcome.entry is not None
            record = outcome_json(code.outcome) | {"source": "scanner"}
            emit(record, as_json, human_line(code.outcome.assessment))
    except KeyboardInterrupt:
        pass
    return logged


@click.command()
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
    config = gate_config(config_file)
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
