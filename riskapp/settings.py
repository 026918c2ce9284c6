"""All configuration of riskapp in one typed object, read from the environment.

Every setting is an environment variable `RISKAPP_<NAME>` (e.g. `RISKAPP_DATABASE_URL`); a `.env`
file in the working directory is read too. Values are validated once, at start-up.
"""

from __future__ import annotations

import os
from collections.abc import Hashable
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from riskapp import resources

DEMO = resources.DEMO  # the default workspace: the demo shipped inside the package

SUPPORTED_DATABASES = ("sqlite://", "sqlite+pysqlite://", "postgresql+psycopg://")


class Subscription(BaseModel):
    """One subscriber of alerts: e-mail addresses or a webhook, and what it wants."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100)]
    email: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)]] = Field(
        default_factory=list
    )
    webhook: Annotated[str, Field(pattern=r"^https?://", max_length=2000)] | None = None
    format: Literal["json", "slack", "teams"] = "json"
    kinds: list[str] = Field(default_factory=list)  # empty: every kind
    min_severity: Literal["info", "warning", "critical"] = "info"

    @model_validator(mode="after")
    def _somewhere(self) -> Subscription:
        if not self.email and self.webhook is None:
            raise ValueError(f"subscription {self.name!r}: give email addresses or a webhook")
        return self


class Settings(BaseSettings):
    """riskapp's configuration (environment variables `RISKAPP_*`)."""

    model_config = SettingsConfigDict(
        env_prefix="RISKAPP_", env_file=".env", extra="ignore", frozen=True
    )

    workspace: Path = Field(
        default=DEMO,
        description="Workspace folder whose files (settings, factors, regions, curves, baseline, "
        "scenarios) the assessment reads. The register and plans come from the database.",
    )
    data_dir: Path = Field(
        # read when settings are made, not at import: a HOME changed later (tests) is honoured
        default_factory=lambda: Path.home() / ".riskapp",
        description="Folder of the embedded SQLite database when no database_url is given.",
    )
    chart_cache_mb: Annotated[int, Field(ge=0, le=100_000)] = Field(
        default=200,
        description="Megabytes of report chart images kept in data_dir/cache/charts, so a "
        "report of unchanged inputs draws no chart again (oldest used dropped first); 0: off.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the team database, e.g. "
        "postgresql+psycopg://user@host:5432/riskapp. Default: an SQLite file in data_dir.",
    )
    database_admin_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the role that owns the tables (PostgreSQL), used only to "
        "migrate them. Set it when database_url is a role that does not own the tables "
        "(`riskapp db create-app-role`): that role cannot drop, alter or disable the audit "
        "trail's guards, and never migrates the schema itself.",
    )
    database_busy_timeout: Annotated[float, Field(gt=0, le=600)] = Field(
        default=10.0,
        description="Seconds a change waits for another change to the database to finish "
        "before it gives up with 'the database is busy' (and writes nothing).",
    )
    workspace_id: str = Field(
        default="default",
        pattern=r"^[a-z][a-z0-9_]{0,29}$",
        description="The workspace of the team database that store commands, the Python API and "
        "the dashboard's first page open (`riskapp workspaces list`): 'default' is the one the "
        "database always held; a server serving several clients keeps each in its own.",
    )
    user: str | None = Field(
        default=None,
        description="The account on whose behalf the command line and the Python API open a "
        "workspace: opening one it holds no role in is refused. Unset, they act as the "
        "operator who holds the database's credentials.",
    )
    seed_demo: bool = Field(
        default=True,
        description="Fill an empty database with the register and plans of `workspace` on first "
        "start.",
    )
    login_max_failures: Annotated[int, Field(ge=1, le=100)] = Field(
        default=5, description="Failed logins in a row before a username is locked for a while."
    )
    login_max_failures_per_source: Annotated[int, Field(ge=1, le=1000)] = Field(
        default=10,
        description="Failed logins in a row from one address, across any usernames (password "
        "spraying), before the address is locked for a while.",
    )
    login_lockout_seconds: Annotated[int, Field(ge=1, le=86_400)] = Field(
        default=60,
        description="First lockout after too many failed logins; doubles with each further "
        "failure, up to one hour.",
    )
    oidc_provider: str | None = Field(
        default=None,
        description="Name of an OpenID Connect provider configured for st.login in "
        ".streamlit/secrets.toml ([auth.<name>]); offers 'Log in with <name>' on the login page.",
    )
    trusted_proxies: tuple[str, ...] = Field(
        default=(),
        description="Addresses or networks of the reverse proxies in front of the dashboard "
        '(JSON list, e.g. ["127.0.0.1"]). Only for connections from them is the client taken '
        "from X-Forwarded-For, so failed logins are counted per real client, not per proxy.",
    )
    sql_echo: bool = Field(default=False, description="Log every SQL statement (debugging).")
    # `riskapp indicators fetch`: where the publishers are and how to reach them
    fetch_timeout: Annotated[float, Field(gt=0, le=600)] = Field(
        default=30.0,
        description="Seconds one request of `riskapp indicators fetch` waits for a server "
        "(to connect and between bytes) before it counts as a timeout.",
    )
    fetch_retries: Annotated[int, Field(ge=0, le=10)] = Field(
        default=3,
        description="Further attempts after a timeout, a connection error, HTTP 429 or a 5xx "
        "answer (other answers are not retried).",
    )
    fetch_backoff: Annotated[float, Field(ge=0, le=300)] = Field(
        default=1.0,
        description="Seconds before the first retry; each further retry waits twice as long "
        "(exponential backoff). A 429's Retry-After is honoured up to 300 s.",
    )
    fetch_max_bytes: Annotated[int, Field(ge=1_000, le=2_000_000_000)] = Field(
        default=50_000_000, description="Largest answer a fetch accepts (bytes)."
    )
    fetch_proxy: str | None = Field(
        default=None,
        description="Proxy for every fetch (http://host:port). Default: the usual "
        "environment variables (https_proxy, no_proxy) apply.",
    )
    fetch_user_agent: str = Field(
        default="riskapp-indicators/1.0", description="User-Agent header of every fetch."
    )
    worldbank_url: str = Field(
        default="https://api.worldbank.org/v2",
        description="Base URL of the World Bank Indicators API (v2).",
    )
    eurostat_url: str = Field(
        default="https://ec.europa.eu/eurostat/api/dissemination/statistics/1.0/data",
        description="Base URL of Eurostat's dissemination API (JSON-stat 2.0 data).",
    )
    ucdp_url: str = Field(
        default="https://ucdpapi.pcr.uu.se/api",
        description="Base URL of the UCDP API (GED events under /gedevents/<version>).",
    )
    ucdp_token: SecretStr | None = Field(
        default=None,
        description="UCDP API access token, sent as the x-ucdp-access-token header.",
    )
    gpr_url: str | None = Field(
        default=None,
        description="Where the Caldara-Iacoviello GPR monthly file is downloaded from, in the "
        "CSV form riskapp ships (data_gpr_export: month dd/mm/yyyy, GPR, GPRC_<ISO3>, ...). The "
        "authors publish it as .xls at matteoiacoviello.com/gpr.htm: serve a CSV export of it. "
        "An indicator may name its own url.",
    )
    fetch_tokens: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Named secrets for the generic HTTP connector (JSON object, e.g. "
        '{"acme": "s3cret"}); an indicator names one with `token:` and never holds it.',
    )

    # -- alert delivery (riskapp.io.notify) ----------------------------------------------------
    smtp_host: str | None = Field(default=None, description="SMTP server for alert e-mail.")
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = Field(
        default=587, description="SMTP port (587 with STARTTLS, 465 with smtp_ssl)."
    )
    smtp_starttls: bool = Field(
        default=True, description="Upgrade the SMTP connection with STARTTLS before logging in."
    )
    smtp_ssl: bool = Field(default=False, description="Connect with TLS from the start (465).")
    smtp_cafile: str | None = Field(
        default=None,
        description="CA bundle the SMTP server's certificate is checked against (default: the "
        "system's).",
    )
    smtp_user: str | None = Field(default=None, description="SMTP login.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_from: str = Field(
        default="riskapp@localhost", description="Sender address of alert e-mail."
    )
    alert_subscriptions: list[Subscription] = Field(
        default_factory=list,
        description="Who receives which alerts (JSON list): each with a name, e-mail "
        "addresses or a webhook URL (format json, slack or teams), and optionally the kinds "
        "and the lowest severity it wants.",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Key of the HMAC-SHA256 signature of JSON webhooks "
        "(X-Riskapp-Signature: sha256=<hex of the body's HMAC>).",
    )
    alert_storm_limit: Annotated[int, Field(ge=1, le=1000)] = Field(
        default=10,
        description="More new alerts than this for one subscriber in one delivery are sent as "
        "one summary instead of one by one.",
    )

    fetch_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts the generic HTTP connector may fetch from (JSON list, e.g. "
        '["data.vendor.example"]): a workspace file names the URL, the operator allows the '
        "host. Empty: the generic connector fetches nothing.",
    )
    max_data_age_months: Annotated[int, Field(ge=1, le=600)] = Field(
        default=36,
        description="Baseline data whose newest period ended more than this many months ago "
        "are flagged as old on the dashboard's Baseline data page and in every report.",
    )

    refresh_schedule: str = Field(
        default="0 6 * * *",
        description="When `riskapp watch` refreshes (a cron expression, UTC; default 06:00 "
        "every day).",
    )
    refresh_baseline: bool = Field(
        default=False,
        description="A refresh also rebuilds the workspace's baseline.csv from the public "
        "reference data (for workspaces whose baseline is built that way).",
    )

    @field_validator("refresh_schedule")
    @classmethod
    def _cron(cls, expression: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(expression):
            raise ValueError(f"refresh_schedule: {expression!r} is not a cron expression")
        return expression

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, proxies: tuple[str, ...]) -> tuple[str, ...]:
        import ipaddress

        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(
                    f"trusted_proxies: {proxy!r} is not an IP address or network"
                ) from None
        return proxies

    @field_validator("worldbank_url", "eurostat_url", "ucdp_url", "gpr_url", "fetch_proxy")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        url = url.strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"expected an http:// or https:// URL; got {url[:60]!r}")
        return url

    @field_validator("database_url", "database_admin_url")
    @classmethod
    def _known_database(cls, url: str | None) -> str | None:
        if url is None or not url.strip():
            return None
        url = url.strip()
        if not url.startswith(SUPPORTED_DATABASES):
            raise ValueError(
                "expected an SQLite URL (sqlite:///path/riskapp.db) or a PostgreSQL URL with the "
                f"psycopg driver (postgresql+psycopg://user@host:5432/db); got {url.split(':')[0]}"
            )
        return url

    @property
    def database(self) -> str:
        """The SQLAlchemy URL to connect to (the SQLite default spelled out)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'riskapp.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read from the environment once)."""
    return Settings()


def settings_now(**fields: Hashable) -> Settings:
    """`Settings(**fields)` as the environment gives them now, made once for each environment
    and fields (the dashboard asks several times per page view: about 5 ms each time).
    What Settings reads besides `fields` is part of the key: every RISKAPP_* variable (in any
    case), HOME (the default data_dir), and the working directory with its `.env` file's
    identity and modification time, so that a changed environment gives new settings."""
    return _settings_made(_environment(), tuple(sorted(fields.items())))


def _environment() -> tuple[Hashable, ...]:
    ours = tuple(sorted((k, v) for k, v in os.environ.items() if k.upper().startswith("RISKAPP_")))
    try:
        found = os.stat(".env")
        dotenv: tuple[int, ...] | None = (found.st_ino, found.st_size, found.st_mtime_ns)
    except OSError:
        dotenv = None
    return ours, os.environ.get("HOME"), os.getcwd(), dotenv


@lru_cache(maxsize=16)
def _settings_made(
    environment: tuple[Hashable, ...], fields: tuple[tuple[str, Hashable], ...]
) -> Settings:
    del environment  # the key: Settings reads it itself
    return Settings(**dict(fields))  # type: ignore[arg-type]
