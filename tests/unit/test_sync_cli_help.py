"""Every `pocket-hq` command and every sync command of `pocket-kiosk` has help text, for itself and each option."""

from __future__ import annotations

import click
import pytest

from kiosk.cli import main as kiosk_main
from sync.hq.cli import main as hq_main


def _commands(group: click.Group, prefix: str) -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in group.commands.items():
        found.append((f"{prefix} {name}", command))
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix} {name}")
    return found


COMMANDS = _commands(hq_main, "pocket-hq") + [
    (f"pocket-kiosk {name}", kiosk_main.commands[name]) for name in ("enroll", "sync")
]


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_command_and_options_have_help(name: str, command: click.Command) -> None:
    assert command.help, f"{name} has no help text"
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"{name} {param.opts[0]} has no help text"
