"""`pocket-kiosk sound test`: every verdict's sound on the gate's speaker, or as WAV files to check by ear."""

from __future__ import annotations

from pathlib import Path

import click

from kiosk.cli.options import config_option, gate_config
from kiosk.cli.output import friendly_errors
from kiosk.sound.clips import SoundSettings, write_clips
from kiosk.sound.cues import Cue
from kiosk.sound.player import SoundPlayer
from sync.core.i18n import N_, _, language

PLAY_SECONDS = 10.0
"""Longest one clip may take to play before the test moves on (a clip is about a second)."""
CUE_NAMES = {
    Cue.PASS: N_("pass"),
    Cue.HOLD: N_("hold"),
    Cue.REFUSE: N_("refused"),
    Cue.NOT_LOGGED: N_("not logged"),
}


@click.group()
def sound() -> None:
    """The gate's verdict sounds (tone and spoken verdict, in the keeper's language)."""


@sound.command("test")
@config_option
@click.option(
    "--to",
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write each verdict's sound to this folder as a WAV file (pass.wav, hold.wav, ...) instead of playing it.",
)
@friendly_errors
def test(config_file: Path | None, folder: Path | None) -> None:
    """Play every verdict's sound, as the kiosk would (the config's sound mode, volume and language)."""
    config = gate_config(config_file)
    settings = SoundSettings(config.sound, config.volume, language())
    if folder is not None:
        try:
            written, problem = write_clips(folder, settings)
        except OSError as exc:
            raise click.ClickException(_("cannot write to {folder}: {error}").format(folder=folder, error=exc)) from exc
        if problem:
            click.echo(problem, err=True)
        for path in written:
            click.echo(str(path))
        if not written:
            click.echo(_("sound is off in the configuration: nothing to write"))
        return
    problems: list[str] = []
    player = SoundPlayer(settings, on_problem=problems.append)
    player.start()
    if not player.audible:
        click.echo(_("sound is off in the configuration: nothing to play"))
        return
    try:
        for cue in Cue:
            click.echo(_("playing: {cue}").format(cue=_(CUE_NAMES[cue])))
            player.play(cue)
            player.wait_until_silent(PLAY_SECONDS)
    finally:
        player.close()
    for problem in dict.fromkeys(problems):
        click.echo(problem, err=True)
