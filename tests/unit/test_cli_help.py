"""Every command and option of both CLIs explains itself (after sqlite-utils' test of the same name)."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest

from kiosk.cli import main as kiosk_main
from sync.hq.cli import main as hq_main


def walk(command: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from walk(sub, f"{path} {name}")


COMMANDS = [*walk(kiosk_main, "pocket-kiosk"), *walk(hq_main, "pocket-hq")]


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_command_and_options_have_help(path: str, command: click.Command) -> None:
    assert command.help, f"{path} has no help text"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"{path} {param.opts[0]} has no help text"
