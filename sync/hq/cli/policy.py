"""`pocket-hq policy`: the rules every gate applies, published whole."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import click

from sync.core.i18n import _
from sync.core.escaping import visible
from sync.core.policy import closest_policy_key
from sync.hq import lists
from sync.hq.cli.options import db_option, open_db
from sync.hq.cli.output import hq_errors


@click.group()
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
            click.confirm(_("Publish this policy anyway?"), abort=True, err=True)
    version = lists.set_policy(open_db(db), checked)
    click.echo(_("policy published (bundle version {version})").format(version=version))


def _ignored_warning(names: tuple[str, ...]) -> str:
    lines = [
        _("warning: gates running Pocket Gate {version} (this HQ's version) or older do not know these rules and "
          "will ignore them, saying so in their settings and `sync --status`:").format(version=metadata.version("pocket-gate"))
    ]
    for name in names:
        closest = closest_policy_key(name)
        lines.append(f"  {visible(name)}" + (_(" (did you mean {key}?)").format(key=closest) if closest else ""))
    return "\n".join(lines)


@policy.command("clear")
@db_option
@hq_errors
def policy_clear(db: str | None) -> None:
    """Stop publishing a policy: gates fall back to their own policy file."""
    version = lists.set_policy(open_db(db), None)
    click.echo(_("policy withdrawn (bundle version {version})").format(version=version))


@policy.command("show")
@db_option
@hq_errors
def policy_show(db: str | None) -> None:
    """Print the published policy as JSON, as gates receive it (or say there is none)."""
    current = lists.current_policy(open_db(db))
    if current is None:
        click.echo(_("no policy published; gates use their own file"))
        return
    click.echo(json.dumps(current.data, indent=2, ensure_ascii=False))
    if current.ignored:
        click.echo(_ignored_warning(current.ignored), err=True)
