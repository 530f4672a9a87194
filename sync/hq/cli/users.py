"""`pocket-hq users`: staff accounts for the dashboard."""

from __future__ import annotations

import json
import sys

import click

from sync.core.i18n import LANGUAGE_NAMES, LANGUAGES, _
from sync.hq import staff
from sync.hq.cli.options import db_option, json_option, local_times, open_db
from sync.hq.cli.output import hq_errors


@click.group()
def users() -> None:
    """Staff accounts for the dashboard (viewers trace and watch; admins also change lists, passes, gates)."""


def _new_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt(_("Password"), hide_input=True, confirmation_prompt=True))


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
    click.echo(_("user {user} ({role}) created").format(user=user.username, role=_(user.role.value)))


@users.command("password")
@click.argument("username")
@password_stdin_option
@db_option
@hq_errors
def users_password(username: str, password_stdin: bool, db: str | None) -> None:
    """Give USERNAME a new password (signs out every session of the account)."""
    staff.set_password(open_db(db), username, _new_password(password_stdin))
    click.echo(_("password of {user} changed; its sessions have ended").format(user=username))


@users.command("role")
@click.argument("username")
@click.argument("role", type=click.Choice([r.value for r in staff.Role]))
@db_option
@hq_errors
def users_role(username: str, role: str, db: str | None) -> None:
    """Make USERNAME a viewer or an admin (from its next page)."""
    staff.set_role(open_db(db), username, staff.Role(role))
    click.echo(_("{user} is now {role}").format(user=username, role=_(role)))


@users.command("disable")
@click.argument("username")
@db_option
@hq_errors
def users_disable(username: str, db: str | None) -> None:
    """Stop USERNAME signing in and end its sessions at once (the audit log keeps its name)."""
    staff.disable_user(open_db(db), username)
    click.echo(_("{user} disabled").format(user=username))


@users.command("enable")
@click.argument("username")
@db_option
@hq_errors
def users_enable(username: str, db: str | None) -> None:
    """Let a disabled USERNAME sign in again."""
    staff.enable_user(open_db(db), username)
    click.echo(_("{user} enabled").format(user=username))


@users.command("language")
@click.argument("username")
@click.argument("language", type=click.Choice([*LANGUAGES, "district"]))
@db_option
@hq_errors
def users_language(username: str, language: str, db: str | None) -> None:
    """Show the dashboard to USERNAME in LANGUAGE, or in the district's (`serve --language`) with 'district'.
    Staff can also choose on any page of the dashboard."""
    staff.set_language(open_db(db), username, None if language == "district" else language)
    click.echo(_("{user} reads the dashboard in {language}").format(
        user=username, language=LANGUAGE_NAMES.get(language, _("the district's language"))))


@users.command("list")
@db_option
@json_option
@hq_errors
def users_list(db: str | None, as_json: bool) -> None:
    """Every staff account, its role and whether it is disabled."""
    database = open_db(db)
    shown = local_times(database)
    for user in staff.list_users(database):
        if as_json:
            click.echo(json.dumps({"username": user.username, "role": user.role.value, "created_at": user.created_at,
                                   "disabled_at": user.disabled_at, "language": user.language}))
        else:
            state = _("disabled {time}").format(time=shown(user.disabled_at)) if user.disabled_at else _("active")
            reads = LANGUAGE_NAMES[user.language] if user.language else _("the district's language")
            click.echo(f"{user.username}: {_(user.role.value)}, {state}, {reads}")
