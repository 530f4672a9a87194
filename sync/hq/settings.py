"""HQ's configuration, as a pydantic-settings model with one docstring per field.

Every field can be set by an environment variable `POCKET_HQ_<FIELD>` (e.g. `POCKET_HQ_DB`), and the
`pocket-hq` options override those, so a service unit can carry the settings and an operator the exceptions.
"""

from __future__ import annotations

from pathlib import Path

from limits import parse_many
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sync.protocol import MAX_BODY_BYTES


class HqSettings(BaseSettings):
    """Everything the HQ server and its commands need to know."""

    model_config = SettingsConfigDict(env_prefix="POCKET_HQ_", extra="forbid", frozen=True)

    db: str = "hq.db"
    """HQ's database: a SQLite file path (the default, one HQ process) or a postgresql:// URL (a city)."""
    signing_key_file: Path = Path("hq-signing.key.pem")
    """HQ's Ed25519 bundle-signing private key (`pocket-hq signing-key init` makes it; gates pin its public half)."""
    district_key_file: Path | None = None
    """The district HMAC key (`district.key` from `pocket-hq keys init`), to hash ID numbers in lists and passes."""
    retention_days: int = Field(28, ge=1, le=3650)
    """Entries older than this are purged at HQ (on start, daily while serving, and by `pocket-hq purge`)."""
    rate_limit: str = "600/minute"
    """Requests allowed per gate, in the `limits` notation ('600/minute', '20/second;600/minute')."""
    max_body_bytes: int = Field(MAX_BODY_BYTES, ge=1024, le=MAX_BODY_BYTES)
    """Largest request body HQ reads; anything larger is refused with 413 before it is read."""
    purge_interval_hours: float = Field(24.0, gt=0)
    """How often a running server purges old entries."""

    @field_validator("rate_limit")
    @classmethod
    def _parse_rate_limit(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a rate such as '600/minute'") from exc
        return value
