"""The options `pocket-hq`'s commands share, and what they open: HQ's settings, its database, the district key.

`--db`, `--signing-key` and `--district-key` default to the POCKET_HQ_* environment variables (see
sync/hq/settings.py), so an operator sets them once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from sync.core.i18n import _
from sync.core.identity import load_district_key
from sync.hq.db import HqDatabase
from sync.hq.district_zone import published_zone
from sync.hq.settings import HqSettings
from sync.hq.web.clock import DistrictClock


db_option = click.option(
    "--db", help="HQ database: a SQLite file path or a postgresql:// URL (default: $POCKET_HQ_DB or hq.db)."
)
signing_key_option = click.option(
    "--signing-key",
    "signing_key_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Bundle-signing private key (default: $POCKET_HQ_SIGNING_KEY_FILE or hq-signing.key.pem).",
)
district_key_option = click.option(
    "--district-key",
    "district_key_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="District key that hashes ID numbers (default: $POCKET_HQ_DISTRICT_KEY_FILE).",
)
tls_cert_option = click.option(
    "--tls-cert",
    "tls_cert_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="HQ's TLS certificate, PEM (default: $POCKET_HQ_TLS_CERT_FILE; `pocket-hq tls init` makes one).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def settings_from(**overrides: Any) -> HqSettings:
    """HqSettings from the environment, with the options that were given on top."""
    return HqSettings(**{key: value for key, value in overrides.items() if value is not None})


def open_db(db: str | None) -> HqDatabase:
    database = HqDatabase(settings_from(db=db).db)
    database.upgrade()
    return database


def local_times(database: HqDatabase) -> Callable[[str | None], str]:
    """How the commands show a stored UTC time: ISO 8601 in the district's zone, with its offset
    (POCKET_HQ_TIMEZONE, else the zone HQ publishes to its gates, else this machine's); text that is not a time
    is shown as it is."""
    with database.read() as conn:
        clock = DistrictClock(settings_from().timezone or published_zone(conn))

    def shown(ts: str | None) -> str:
        if not ts:
            return ""
        try:
            return clock.local(datetime.fromisoformat(ts)).isoformat(timespec="seconds")
        except ValueError:
            return ts

    return shown


def district_key(district_key_file: Path | None) -> bytes:
    path = settings_from(district_key_file=district_key_file).district_key_file
    if path is None:
        raise click.UsageError(_("give --district-key FILE (or set POCKET_HQ_DISTRICT_KEY_FILE): ID numbers must be hashed"))
    return load_district_key(path)
