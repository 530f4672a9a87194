"""The gate's configuration (`kiosk.toml`), as a pydantic-settings model with one docstring per field.

Values come from the file given with `--config` (or `$POCKET_GATE_CONFIG`, or the per-user default), and
each can be overridden by an environment variable `POCKET_GATE_<FIELD>`. Relative paths in the file are
relative to the file, so a gate folder can be moved as a whole.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import Field, StringConstraints, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from kiosk.keeper_locale import zone_named
from kiosk.sound.cues import SoundMode
from sync.core.i18n import LANGUAGES, supported, _
from sync.core.policy import Policy, load_policy

DEFAULT_CONFIG = Path.home() / ".config" / "pocket-gate" / "kiosk.toml"
DEFAULT_DATA = Path.home() / ".local" / "share" / "pocket-gate"
_PATH_FIELDS = (
    "database", "trust_dir", "district_key_file", "policy_file", "hq_token_file", "hq_key_file", "hq_cert_file"
)


class ConfigError(Exception):
    """The configuration file is missing, unreadable or invalid; the message says which and where."""


class KioskConfig(BaseSettings):
    """Everything a gate needs to know about itself."""

    model_config = SettingsConfigDict(env_prefix="POCKET_GATE_", extra="forbid", frozen=True)

    gate_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")] = "gate-1"
    """This gate's id, as enrolled at HQ (letters, digits, '.', '_', '-')."""
    database: Path = DEFAULT_DATA / "gate.db"
    """The gate's SQLite file: entry log, roster, lists and keys."""
    trust_dir: Path | None = None
    """Folder of trusted issuer public keys (`*.pub.pem`), as written by `pocket-hq keys init`."""
    district_key_file: Path | None = None
    """The district HMAC key, for a gate without HQ only (it hashes the lists it imports): an enrolled gate gets a
    key of its own from HQ and deletes this one at its first sync that allows it."""
    policy_file: Path | None = None
    """The rules in force (`config/policy.toml`); without one, the field defaults apply."""
    source: str = "0"
    """Camera: a webcam index, a video file, an image folder or glob, or an rtsp:// or http:// URL."""
    scanner: Annotated[str, StringConstraints(pattern=r"^(serial:\S.*)?$")] = ""
    """A serial QR scanner (USB CDC), as "serial:/dev/ttyACM0", read with pyserial and reopened when it is unplugged
    and back. Keyboard-wedge scanners (most USB handhelds) need no setting: their bursts are told from typing."""
    scanner_key_gap_ms: int = Field(50, ge=5, le=500)
    """Keys at most this many milliseconds apart, 8 or more ending with Enter, are a keyboard-wedge scanner's
    code, not typing (scanners send one every 1-20 ms; nobody types that fast)."""
    debounce_seconds: float = Field(5.0, ge=0, le=600)
    """The same code seen again within this many seconds is one scan, not many."""
    retention_days: int = Field(28, ge=1, le=3650)
    """Entries older than this are purged (on start and by `pocket-kiosk purge`); an enrolled gate keeps those HQ
    has not acknowledged yet, however old, until a sync has delivered them."""
    operator: str = ""
    """Operator recorded on entries logged by the headless `scan` command."""
    banner_seconds: float = Field(6.0, ge=1, le=120)
    """The kiosk's verdict banner clears itself after this many seconds."""
    document_types: tuple[str, ...] = ("passport", "other-id")
    """Documents the kiosk accepts for manual entry besides the 18-character resident ID (form-checked only)."""
    hq_url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$")] | None = None
    """District HQ's address (http:// or https://), written by `pocket-kiosk enroll`; none: the gate stays offline."""
    hq_token_file: Path | None = None
    """File holding this gate's HQ token (readable by its owner only), written by `pocket-kiosk enroll`."""
    hq_key_file: Path | None = None
    """HQ's bundle-signing public key (PEM), pinned at enrolment; bundles signed by any other key are refused
    (unless this one endorsed it: HQ rotated its key)."""
    hq_cert_file: Path | None = None
    """HQ's TLS certificate (PEM), pinned at enrolment (https only); HQ presenting any other is refused."""
    sync_interval_seconds: float = Field(60.0, ge=1, le=86_400)
    """How often the kiosk syncs with HQ in the background (it also syncs right after each logged entry)."""
    sync_listen: bool = True
    """Hold a request open at HQ that answers when this gate's lists change, and sync at once when they do (a
    new red list is in force within seconds); the interval stays as the fallback. Off: only the interval."""
    sync_batch_entries: int = Field(1000, ge=1, le=2000)
    """Most entries sent to HQ in one request."""
    sync_batch_bytes: int = Field(1_000_000, ge=10_000, le=4_000_000)
    """Most bytes of entries sent to HQ in one request (HQ refuses bodies over 4 MiB)."""
    sync_timeout_seconds: float = Field(30.0, gt=0, le=600)
    """How long one request to HQ may take before it counts as failed (and is retried)."""
    sync_retry_seconds: float = Field(30.0, ge=0, le=3600)
    """How long one sync keeps retrying a failing request, with backoff, before it reports the gate offline."""
    language: str | None = None
    """The keeper's language: "zh_CN" (简体中文) or "en"; none: the laptop's locale, else English. `--lang` wins."""
    timezone: str | None = None
    """The district's time zone for every time the keeper reads (e.g. "Asia/Shanghai") until the gate is
    enrolled: then HQ's bundle says it. None: the laptop's own zone. Times are stored in UTC either way."""
    sound: SoundMode = SoundMode.VOICE
    """Verdict sounds: "voice" (a tone, then the verdict spoken in the keeper's language), "tone" or "off"."""
    volume: int = Field(80, ge=0, le=100)
    """Loudness of the verdict sounds, 0-100 (it follows the square: 50 is a quarter of full amplitude)."""

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        if value is not None and supported(value) is None:
            raise ValueError(f"there is no catalog for {value!r}: choose one of {', '.join(LANGUAGES)}")
        return supported(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and zone_named(value) is None:
            raise ValueError(f"{value!r} is not a time zone this machine knows (e.g. Asia/Shanghai)")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment variables win over the file (whose values arrive as init arguments)."""
        return env_settings, init_settings

    def load_policy(self) -> Policy:
        return load_policy(self.policy_file) if self.policy_file else Policy()


def config_path(explicit: Path | None) -> Path | None:
    """The file to read: the one given, else `$POCKET_GATE_CONFIG`, else the per-user file if it exists."""
    if explicit is not None:
        return explicit
    if env := os.environ.get("POCKET_GATE_CONFIG"):
        return Path(env)
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


def load_config(explicit: Path | None = None) -> KioskConfig:
    """Read and validate the configuration; any problem becomes one readable ConfigError."""
    path = config_path(explicit)
    data: dict[str, object] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(_("cannot read config file {path}: {error}").format(path=path, error=exc.strerror)) from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(_("config file {path} is not valid TOML: {error}").format(path=path, error=exc)) from exc
        base = path.resolve().parent
        for key in _PATH_FIELDS:
            value = data.get(key)
            if isinstance(value, str) and not Path(value).expanduser().is_absolute():
                data[key] = str(base / value)
    try:
        return KioskConfig(**data)  # type: ignore[arg-type]
    except ValidationError as exc:
        where = path or "the environment"
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(
            _("configuration from {where} is invalid: {problems}").format(where=where, problems=problems)
        ) from exc
