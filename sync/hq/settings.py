"""HQ's configuration, as a pydantic-settings model with one docstring per field.

Every field can be set by an environment variable `POCKET_HQ_<FIELD>` (e.g. `POCKET_HQ_DB`), and the
`pocket-hq` options override those, so a service unit can carry the settings and an operator the exceptions.
"""

from __future__ import annotations

from ipaddress import ip_network
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from limits import parse_many
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sync.core.i18n import LANGUAGES, supported
from sync.core.protocol import MAX_BODY_BYTES


class HqSettings(BaseSettings):
    """Everything the HQ server and its commands need to know."""

    model_config = SettingsConfigDict(env_prefix="POCKET_HQ_", extra="forbid", frozen=True)

    db: str = "hq.db"
    """HQ's database: a SQLite file path (the default, one HQ process) or a postgresql:// URL (a city)."""
    read_db: str | None = None
    """A streaming replica of `db` (a postgresql:// URL) for the dashboard's tracing and overview, so that heavy
    reads stay off the primary; writes, and every read that must see them, go to `db`. Unset: `db` serves all."""
    db_connections: int = Field(50, ge=2, le=1000)
    """Most connections this HQ process opens to each database (PostgreSQL counts every process's against its
    `max_connections`)."""
    signing_key_file: Path = Path("hq-signing.key.pem")
    """HQ's Ed25519 bundle-signing private key (`pocket-hq signing-key init` makes it; gates pin its public half)."""
    district_key_file: Path | None = None
    """The district HMAC key (`district.key` from `pocket-hq keys init`), to hash ID numbers in lists and passes."""
    retention_days: int = Field(28, ge=1, le=3650)
    """Entries older than this are purged at HQ (on start, daily while serving, and by `pocket-hq purge`)."""
    rate_limit: str = "600/minute"
    """Requests allowed per gate, in the `limits` notation ('600/minute', '20/second;600/minute')."""
    rate_limit_store: str | None = None
    """Where rate limits (gates' requests, staff sign-ins) are counted: unset, in the process's memory on SQLite
    and in the database on PostgreSQL, so that every HQ process of a city counts together; or a redis:// URL
    where the district runs Redis."""
    forwarded_allow_ips: str = "127.0.0.1"
    """The reverse proxies in front of HQ (addresses or networks, comma-separated, or '*'): a request from one of
    them is taken to come from the address its X-Forwarded-For header names, so that sign-in limits and the audit
    log see staff's own addresses, not the proxy's. The header is ignored from anyone else."""
    max_body_bytes: int = Field(MAX_BODY_BYTES, ge=1024, le=MAX_BODY_BYTES)
    """Largest request body HQ reads; anything larger is refused with 413 before it is read."""
    purge_interval_hours: float = Field(24.0, gt=0)
    """How often a running server purges old entries (one HQ process does it for all; see sync/hq/jobs.py)."""
    bundle_watch_seconds: float = Field(0.5, gt=0, le=30)
    """How often each HQ process looks for a bundle change to tell the gates waiting for one (one small query,
    however many gates wait): a list applied reaches online gates within about this plus their fetch."""
    job_poll_seconds: float = Field(5.0, gt=0, le=3600)
    """How often an HQ process looks for background work that is due (a purge, a list to check), among others
    that may have stopped mid-way."""
    stale_after_minutes: float = Field(60.0, gt=0)
    """The dashboard flags a gate as stale when HQ has not heard from it for this long."""
    timezone: str | None = None
    """The district's time zone (an IANA name such as 'Asia/Shanghai'): the dashboard shows times and takes
    tracing windows in it, and 'today' starts at its midnight. Default: the server's own zone."""
    language: str | None = None
    """The district's language for the dashboard ('zh_CN' or 'en'); each staff account may choose its own there.
    Default: the server's locale, else English."""
    session_idle_minutes: float = Field(30.0, gt=0)
    """A staff session unused for this long ends (sign in again)."""
    session_max_hours: float = Field(12.0, gt=0)
    """No staff session lasts longer than this (one shift)."""
    secure_cookies: bool = False
    """Mark the staff session cookie Secure (browsers then send it over HTTPS only): set it when HQ is served
    behind a TLS proxy (when HQ serves HTTPS itself, `tls_cert_file`, the cookie is always Secure)."""
    tls_cert_file: Path | None = None
    """HQ's TLS certificate (PEM; `pocket-hq tls init` makes a self-signed one): with `tls_key_file`, HQ serves
    HTTPS, and `gates add` prints the fingerprint gates pin."""
    tls_key_file: Path | None = None
    """The private key of `tls_cert_file`."""
    max_upload_mb: float = Field(200.0, gt=0)
    """Largest list CSV the dashboard accepts, in megabytes (a million-row red list is about 40 MB)."""
    max_list_rows: int = Field(1_000_000, ge=1)
    """Most rows a roster or red/yellow list CSV may have, uploaded through the dashboard or loaded by `pocket-hq
    roster load` or `colour-list load`; a longer file is refused (before any of it is checked) and nothing
    changes."""
    login_account_limit: str = "5/minute;10/10 minutes;20/hour"
    """Failed sign-ins allowed per account, from browsers it has not signed in from, in growing tiers: past each
    one, further attempts wait longer (see sync/hq/web/signin_limits.py)."""
    login_device_limit: str = "5/minute;10/10 minutes"
    """Failed sign-ins allowed from a browser the account has signed in from: only its own, so nobody else can
    keep its user out, and a user who mistypes waits ten minutes at most."""
    login_address_limit: str = "30/minute;200/hour"
    """Failed sign-ins allowed from one address over every account, by browsers not known for the account tried
    (password spraying); staff signing in from their own browsers behind that address are not held."""

    @property
    def cookies_secure(self) -> bool:
        """Whether the staff cookies are Secure: whenever HQ serves HTTPS, or is said to be behind TLS."""
        return self.secure_cookies or self.tls_cert_file is not None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not a time zone name such as 'Asia/Shanghai' or 'UTC'") from exc
        return value

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        if value is not None and supported(value) is None:
            raise ValueError(f"there is no catalog for {value!r}: choose one of {', '.join(LANGUAGES)}")
        return supported(value)

    @field_validator("read_db")
    @classmethod
    def _replica_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
            raise ValueError(f"{value[:60]!r} is not a postgresql:// URL: a read replica is a PostgreSQL standby")
        return value

    @field_validator("rate_limit_store")
    @classmethod
    def _store_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "memory://")):
            raise ValueError(f"{value[:60]!r} is not a redis:// URL (or memory:// for this process alone)")
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        for part in (p.strip() for p in value.split(",")):
            if part != "*":
                try:
                    ip_network(part)
                except ValueError as exc:
                    raise ValueError(f"{part[:60]!r} is not an address or network such as 10.0.0.5 or 10.0.0.0/24"
                                     " (or '*' for any)") from exc
        return value

    @field_validator("rate_limit", "login_account_limit", "login_device_limit", "login_address_limit")
    @classmethod
    def _parse_rate_limit(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a rate such as '600/minute'") from exc
        return value
