"""`pocket-kiosk`: the gate's command line. With no command it starts the kiosk app (`--demo` for the built-in
demo); the commands scan, check and maintain a gate headless, and manage the operators who sign in.

Every command and option carries help text (a test enforces it). Errors are one readable line on stderr and a
non-zero exit, never a traceback. The Textual app is imported only when it is started, so the headless
commands stay quick and never touch the terminal UI; likewise the HTTP client (sync, enroll), so a kiosk
start does not pay for it.
"""

from __future__ import annotations

from pathlib import Path

import click

from kiosk.cli import entry_log, idcard, operators, roster, scanning, sound, syncing, trust
from kiosk.cli.options import config_option, db_option, gate_config, speak_for
from kiosk.cli.output import friendly_errors
from kiosk.config import config_path, load_config
from kiosk.keeper_locale import speak
from sync.core.i18n import LANGUAGES


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
@click.version_option(package_name="pocket-gate")
@click.option("--demo", is_flag=True, help="Run the kiosk on built-in sample frames (and once each: a companion, an ID card, a scanner burst, a "
              "second entry without leaving): no webcam or configuration needed.")
@config_option
@db_option
@click.option("--source", help="Camera for the kiosk (overrides the config): webcam index, video, folder or URL.")
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    help="The keeper's language for this run (default: `language` in the config, else the system's locale).",
)
@click.pass_context
@friendly_errors
def main(
    ctx: click.Context, demo: bool, config_file: Path | None, db: Path | None, source: str | None, lang: str | None
) -> None:
    """Pocket Gate at the gate: scan health codes, judge them by policy and log every entry, offline.

    With no command, start the kiosk: a terminal app for the gate keeper (sign in, then show codes to the
    camera, or scan them with a USB or serial QR scanner). Without a phone: m types an ID number, c reads an ID
    card held to the camera, a adds a companion (a child, an elderly parent) right after a verdict, v registers
    a visitor (confirmed by the host by phone where the policy asks). A second entry without leaving is held;
    p lists who is out. `pocket-kiosk --demo` plays sample codes of every kind, with its own keys, lists and
    log, and works these flows once by itself: a companion, an ID card, a scanner burst, a second entry."""
    speak(lang)  # until a command reads its configuration
    if ctx.invoked_subcommand is not None:
        return
    from kiosk.ui.launch import run_kiosk  # the Textual app loads only when it runs

    if demo:
        from kiosk.demo import demo_config

        own = load_config(config_file) if config_path(config_file) is not None else None
        config = demo_config(db, source=source, keeper=own)
        speak_for(config)
    else:
        config = gate_config(config_file)
        overrides = {key: value for key, value in (("database", db), ("source", source)) if value is not None}
        config = config.model_copy(update=overrides) if overrides else config
    click.echo(run_kiosk(config, demo=demo, config_file=config_file), err=True)


for command in (
    scanning.scan,
    scanning.check,
    idcard.idcard,
    entry_log.purge,
    entry_log.verify,
    entry_log.report,
    roster.roster,
    trust.trust,
    operators.operators,
    syncing.enroll,
    syncing.sync,
    sound.sound,
):
    main.add_command(command)
