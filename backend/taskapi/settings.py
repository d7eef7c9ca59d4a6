"""Typed settings from the environment; unsafe combinations are refused at start-up."""

from functools import cached_property
from ipaddress import ip_address
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Better Auth refuses secrets shorter than this in production; so do we.
MIN_SECRET_LENGTH = 32
PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "your-secret-here", "better-auth-secret"}


class SettingsError(ValueError):
    """A configuration mistake, worded for the operator who has to fix it."""


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ip_address(host).is_loopback
    except ValueError:
        return False


def _comma_separated(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _require_postgres(url: str) -> None:
    scheme = urlsplit(url).scheme.split("+")[0]
    if scheme not in {"postgres", "postgresql"}:
        raise SettingsError(f"must be a postgresql:// URL (as Neon prints it), got a {scheme or 'schemeless'} URL")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    database_url: str = Field(description="Postgres URL, as Neon prints it.")
    # Neon's direct (non-pooled) endpoint: for migrations and for LISTEN, which PgBouncer cannot pass on.
    database_url_direct: str | None = None
    # Read replicas (Neon's read replica endpoints, or any streaming standby), comma-separated: reads go to one
    # only once it has every change the reader made (taskapi/db/read_replicas.py). Empty: every read on the primary.
    database_url_replicas: str = Field("", repr=False)
    # Requests per minute for each user (0: no limit), with bursts of up to rate_limit_burst at once; and for
    # each client address sending no token, or one not verified yet (a forged one).
    rate_limit_per_minute: int = Field(600, ge=0)
    rate_limit_burst: int = Field(60, ge=1)
    rate_limit_unauthenticated_per_minute: int = Field(60, ge=0)
    rate_limit_unauthenticated_burst: int = Field(20, ge=1)
    # Live tasks one user may hold; a create beyond it is a 409, and so is a completion whose next occurrence is.
    max_tasks_per_user: int = Field(10_000, ge=1, le=10_000_000)
    # Lists a user may hold (taskapi/lists); creating one more is a 409.
    max_lists_per_user: int = Field(200, ge=1, le=10_000)
    # A deleted task stays in the trash this long (days) before the sweep destroys it; the sweep runs this often
    # (seconds), once for all workers and replicas.
    trash_retention_days: float = Field(30, gt=0, le=3650)
    purge_interval_seconds: int = Field(3600, ge=1, le=7 * 86400)
    # How long (days) the change feed remembers a task destroyed for good; a client whose position is older
    # than a forgotten destruction must sync from scratch (410).
    changes_retention_days: float = Field(30, gt=0, le=3650)
    # Live events: open streams per user in each worker, and the longest a stream lasts (it also ends with its
    # token); a client reconnects, so this spreads streams over replicas again after a deploy.
    event_streams_per_user: int = Field(10, ge=1, le=1000)
    event_stream_max_seconds: float = Field(3600, gt=0, le=86400)
    # A LISTEN connection that answers nothing for this long (a NAT or proxy dropped it without closing it) is
    # replaced, and the streams are told to resync.
    event_listen_timeout_seconds: float = Field(30, ge=1, le=600)
    # A worker with no event stream for this long closes its LISTEN connection (and stops its heartbeats), so
    # that an idle service sends Neon nothing and the compute can scale to zero; the next stream opens it again.
    event_listen_idle_seconds: float = Field(60, ge=0, le=86400)
    # Web Push (taskapi/push): the VAPID key pair's private key (`make vapid-keys`), and the contact push services
    # see (mailto: or https:). Without a key, reminders reach open streams only.
    vapid_private_key: str | None = Field(None, min_length=40)
    vapid_subject: str | None = Field(None, pattern=r"^(mailto:|https://)\S+$")
    # Tests only: admit http and loopback push endpoints (private and link-local ones stay refused).
    push_allow_local_endpoints: bool = False
    # The longest a push service may take to take a push; then it is tried again later.
    push_timeout_seconds: float = Field(10, gt=0, le=60)
    # `test` lets PUSH_ALLOW_LOCAL_ENDPOINTS be set in JWKS mode (the browser tests' stack).
    environment: str = Field("production", pattern=r"^(production|test)$")
    # Connections per worker, opened as needed and then kept: a pool that grows and shrinks under bursts
    # spends Postgres' CPU on connecting (the old 5 + 5 overflow reopened dozens of connections a second).
    db_pool_size: int = Field(10, ge=1, le=100)
    # Under a burst, requests queue for a connection instead of failing; past this they get a 503.
    db_pool_timeout: float = Field(10.0, gt=0, le=60, description="Seconds to wait for a free connection.")
    # How this service's connections appear in pg_stat_activity (each worker holds DB_POOL_SIZE of them, one
    # LISTEN connection while it serves live events, and one maintenance connection for sweeps and readiness).
    db_application_name: str = Field("taskapi", min_length=1, max_length=63, pattern=r"^[\x20-\x7e]+$")
    db_connect_timeout: int = Field(3, ge=2, le=30, description="Seconds one connection attempt may take.")
    db_connect_budget: float = Field(
        4.0, gt=0, le=60, description="Seconds to keep retrying a connection (a cold Neon compute) before a 503."
    )

    better_auth_url: str | None = None
    better_auth_secret: str | None = Field(None, repr=False)
    jwt_jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_seconds: int = Field(10, ge=0, le=30)
    # /metrics answers only to `Authorization: Bearer <METRICS_TOKEN>`; without one it is off (404).
    metrics_token: str | None = Field(None, repr=False, min_length=16)
    # Better Auth's tokens live 15 minutes; one valid for longer than this was not made by it (or was forged
    # with a leaked shared secret) and is refused.
    jwt_max_lifetime_seconds: int = Field(86400, ge=60, le=30 * 86400)
    jwks_fetch_timeout: float = Field(3.0, gt=0, le=3)
    jwks_min_refetch_interval: float = Field(30.0, ge=0)
    # The key set is fetched again this often (or as the issuer's shorter Cache-Control max-age says), so that a
    # key the issuer retires stops verifying, remembered tokens included, within this period.
    jwks_refresh_seconds: float = Field(300.0, ge=1, le=86400)

    # Signs page cursors and sync positions; shared by all replicas. During a rotation, the old one goes in
    # CURSOR_SECRET_PREVIOUS: what it signed still verifies, and everything new is signed with CURSOR_SECRET.
    cursor_secret: str | None = Field(None, repr=False)
    cursor_secret_previous: str | None = Field(None, repr=False)

    cors_origins: str = Field("", description="Comma-separated origins allowed to call from a browser.")

    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    validate_responses: bool = False

    @field_validator("database_url", "database_url_direct")
    @classmethod
    def _database_url_is_postgres(cls, value: str | None) -> str | None:
        if value is None:
            return None
        _require_postgres(value)
        return value

    @field_validator("database_url_replicas")
    @classmethod
    def _replica_urls_are_postgres(cls, value: str) -> str:
        for url in _comma_separated(value):
            _require_postgres(url)
        return value

    @field_validator("better_auth_secret", "cursor_secret", "cursor_secret_previous")
    @classmethod
    def _secret_is_strong(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.lower() in PLACEHOLDER_SECRETS or len(value) < MIN_SECRET_LENGTH:
            raise SettingsError(
                f"must be a random string of at least {MIN_SECRET_LENGTH} "
                "characters (e.g. `openssl rand -base64 32`), the same on every replica (and for BETTER_AUTH_SECRET, "
                "in the Next.js app)"
            )
        return value

    @model_validator(mode="after")
    def _auth_is_configured(self) -> "Settings":
        if not (self.jwks_url or self.better_auth_secret):
            raise SettingsError(
                "No way to verify tokens: set BETTER_AUTH_URL (the Next.js app's base URL, whose "
                "/api/auth/jwks serves the keys) or BETTER_AUTH_SECRET (shared-secret HS256 tokens)"
            )
        if self.jwks_url:
            parts = urlsplit(self.jwks_url)
            if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(parts.hostname)):
                raise SettingsError(
                    "The JWKS URL (BETTER_AUTH_URL or JWT_JWKS_URL) must use https:// unless it is "
                    f"on this machine; got {self.jwks_url}"
                )
        listen_host = urlsplit(self.database_url_direct or self.database_url).hostname or ""
        if "-pooler" in listen_host.split(".")[0]:
            raise SettingsError(
                "Live events LISTEN on DATABASE_URL_DIRECT, else DATABASE_URL, and Neon's pooled endpoint (a -pooler "
                "host: PgBouncer in transaction mode) loses notifications: set DATABASE_URL_DIRECT to the direct "
                "connection string"
            )
        if self.push_allow_local_endpoints and self.jwks_url and self.environment != "test":
            raise SettingsError(
                "PUSH_ALLOW_LOCAL_ENDPOINTS lets users make the service call this machine's addresses: it is for "
                "tests, and refused with BETTER_AUTH_URL (JWKS mode) unless ENVIRONMENT=test"
            )
        if self.vapid_private_key and not self.vapid_subject:
            raise SettingsError(
                "VAPID_SUBJECT is required with VAPID_PRIVATE_KEY: a mailto: or https: contact for push services"
            )
        if self.jwks_url and not self.cursor_secret:
            raise SettingsError(
                "CURSOR_SECRET is required with BETTER_AUTH_URL (JWKS mode): page cursors and sync positions are "
                "signed with it, and every replica must share it (e.g. `openssl rand -base64 32`)"
            )
        return self

    @field_validator("cors_origins")
    @classmethod
    def _origins_are_origins(cls, value: str) -> str:
        for origin in _comma_separated(value):
            parts = urlsplit(origin)
            if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path not in {"", "/"}:
                raise SettingsError(f"must list origins such as https://app.example.com, not {origin!r}")
        return value

    @cached_property
    def allowed_origins(self) -> list[str]:
        return [origin.rstrip("/") for origin in _comma_separated(self.cors_origins)]

    @cached_property
    def replica_urls(self) -> list[str]:
        return _comma_separated(self.database_url_replicas)

    @cached_property
    def cursor_keys(self) -> tuple[bytes, ...]:
        """The keys of page cursors and sync positions, the signing one first: CURSOR_SECRET (and
        CURSOR_SECRET_PREVIOUS), else the shared secret, which every replica already has. Never a key derived
        from DATABASE_URL, whose password an operator rotates."""
        first = self.cursor_secret or self.better_auth_secret
        return tuple(secret.encode() for secret in (first, self.cursor_secret_previous) if secret)

    @cached_property
    def jwks_url(self) -> str | None:
        if self.jwt_jwks_url:
            return self.jwt_jwks_url
        if self.better_auth_url:
            return self.better_auth_url.rstrip("/") + "/api/auth/jwks"
        return None

    @cached_property
    def issuer(self) -> str | None:
        """Better Auth sets `iss` to the app's base URL; checked whenever it is known."""
        return self.jwt_issuer or self.better_auth_url

    @cached_property
    def audience(self) -> str | None:
        return self.jwt_audience or self.better_auth_url


def load_settings() -> Settings:
    """Read the environment, turning pydantic's report into one line per mistake."""
    try:
        return Settings()
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            name = "_".join(str(part) for part in problem["loc"]).upper()
            message = str(problem["ctx"]["error"]) if "error" in problem.get("ctx", {}) else problem["msg"]
            lines.append(f"{name}: {message}" if name else message)
        raise SettingsError("; ".join(lines)) from None
