"""`pocket-hq`: the district's command line. Issuer keys and codes, the HQ server, gate enrolment, and the
lists HQ publishes to gates (rosters, red/yellow list, passes, policy, trusted keys).

Codes issued here are what demos and tests scan, so they go through exactly the path real use does. Server
and list commands share `--db`, `--signing-key` and `--district-key`, which default to the POCKET_HQ_*
environment variables (see sync/hq/settings.py), so an operator sets them once.
"""

from __future__ import annotations

import os

import click

from sync.core.i18n import LANGUAGES, choose, use
from sync.hq.cli import (
    codes,
    database,
    gates,
    incidents,
    lists,
    passes,
    policy,
    server,
    signing,
    sneakernet,
    tls,
    trust,
    users,
)
from sync.hq.language import DOMAINS


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pocket-gate")
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    help="The language of this command's output (default: $POCKET_HQ_LANGUAGE, else the system's locale).",
)
def main(lang: str | None) -> None:
    """Pocket Gate at district HQ: keys and codes, the HQ server, gates and the lists they receive.

    Times are shown in the district's zone, with its offset ($POCKET_HQ_TIMEZONE, else the zone HQ publishes)."""
    use(choose(lang, os.environ.get("POCKET_HQ_LANGUAGE")), DOMAINS)


for command in (
    codes.keys,
    codes.issue,
    server.serve,
    database.db_group,
    database.purge,
    database.stats_rebuild,
    signing.signing_key,
    sneakernet.sync_import,
    gates.gates,
    gates.alerts,
    users.users,
    lists.roster,
    lists.colour_list,
    incidents.incidents,
    passes.passes,
    policy.policy,
    trust.trust,
    tls.tls,
):
    main.add_command(command)
