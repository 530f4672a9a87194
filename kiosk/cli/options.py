"""The options `pocket-kiosk`'s commands share, and the gate database they name.

`--config` finds the gate's configuration (see `kiosk.config`); `--db` overrides its database.
"""

from __future__ import annotations

from pathlib import Path

import click

from kiosk.config import KioskConfig, load_config
from kiosk.keeper_locale import set_zone, speak
from kiosk.store import GateStore, StoreError
from sync.core.policy import Direction
from sync.core.i18n import _

config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Gate configuration file (default: $POCKET_GATE_CONFIG or ~/.config/pocket-gate/kiosk.toml).",
)
db_option = click.option(
    "--db", type=click.Path(path_type=Path, dir_okay=False), help="Gate database file (overrides the config)."
)
trust_option = click.option(
    "--trust",
    "trust_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder of trusted issuer public keys (overrides the config).",
)
check_trust_option = click.option(
    "--trust",
    "trust_path",
    type=click.Path(path_type=Path, exists=True),
    help="Trusted keys: a folder (overrides the config), or ONE file to verify against that file alone: PEM or "
    "DER X.509 document-signer certificates, PEM public keys, a JWKS or a SMART Health Card issuer directory.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object per line.")
direction_option = click.option(
    "--direction",
    type=click.Choice([d.value for d in Direction]),
    default=Direction.IN.value,
    show_default=True,
    help="Whether people are entering or leaving.",
)


def gate_config(config_file: Path | None) -> KioskConfig:
    """The configuration `--config` names, and from it the keeper's language (unless `--lang` chose one) and the
    zone times are read in."""
    config = load_config(config_file)
    speak_for(config)
    return config


def speak_for(config: KioskConfig) -> None:
    context = click.get_current_context(silent=True)
    chosen = context.find_root().params.get("lang") if context is not None else None
    speak(chosen, config.language)
    set_zone(config.timezone)


def existing_store(config: KioskConfig, db: Path | None, *, read_only: bool = False) -> GateStore:
    """The gate database the options name, which must exist (these commands never create one)."""
    path = db or config.database
    if not path.exists():
        raise StoreError(_("no gate database at {path}").format(path=path))
    return GateStore(path, config.gate_id, read_only=read_only)
