"""Client configuration: credentials per integration, hosts, retries, pacing, import limits."""

from __future__ import annotations

import warnings

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_AUTH_URL",
    "MAX_IMPORT_FILE_BYTES",
    "ClientSettings",
    "Credentials",
    "PacingPolicy",
    "RetryPolicy",
]

DEFAULT_AUTH_URL = "https://auth.listrak.com"
DEFAULT_API_URL = "https://api.listrak.com"
# The specs: "only attempt to import files up to 185 MB (195,000,000 bytes) in size".
MAX_IMPORT_FILE_BYTES = 195_000_000


class Credentials(BaseModel):
    """One Listrak integration's client ID and secret (email, SMS and data are separate)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client_id: str = Field(min_length=1)
    client_secret: SecretStr


class RetryPolicy(BaseModel):
    """How often and how patiently a failed request is tried again.

    Attempt ``n`` waits ``min(wait_max, wait_initial * 2 ** (n - 1))`` plus up to
    ``wait_jitter`` seconds (longer if Listrak's Retry-After says so), and the call gives up after
    ``attempts`` attempts or ``timeout`` seconds. A URL that never answered gets only
    ``first_contact_timeout`` seconds of "connection refused" before the call fails.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    attempts: int = Field(default=8, ge=1)
    timeout: float | None = Field(default=300.0, gt=0, description="seconds for all attempts")
    wait_initial: float = Field(default=0.5, ge=0)
    wait_max: float = Field(default=30.0, ge=0)
    wait_jitter: float = Field(default=1.0, ge=0)
    max_retry_after: float = Field(
        default=120.0, ge=0, description="a longer Retry-After is raised, not waited out"
    )
    first_contact_timeout: float = Field(
        default=10.0,
        ge=0,
        description="seconds of connection failures tolerated before a URL first answers",
    )


class PacingPolicy(BaseModel):
    """Adaptive pacing against Listrak's unpublished leaky bucket, plus an optional cap.

    Unlimited until the first 429; a 429 holds every request of the integration for its
    Retry-After (a blind 429, with none, holds it for ``blind_pause`` seconds until a rate has
    been learnt); the send rate is set to ``decrease`` times the bucket's drain rate — the rate
    of clean answers over the last ``window`` seconds — when that is far under the current
    rate, else ``decrease`` times the current rate, at most once per round of requests in
    flight; each clean second raises it by
    ``probe`` times itself (at least ``increase`` requests/s). Above ``unlimited_above``
    requests/s the limit is lifted again. See listrak/_pacing.py.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    adaptive: bool = True
    rate_limit: float | None = Field(
        default=None, gt=0, description="fixed client-side cap in requests/s per integration"
    )
    decrease: float = Field(default=0.9, gt=0, lt=1)
    probe: float = Field(
        default=0.02, ge=0, description="share of the rate gained per clean second"
    )
    increase: float = Field(
        default=0.1, gt=0, description="requests/s gained per clean second, at least"
    )
    window: float = Field(
        default=2.0, gt=0, description="seconds of clean answers that measure the drain rate"
    )
    min_rate: float = Field(default=0.5, gt=0)
    blind_pause: float = Field(
        default=1.0,
        ge=0,
        description="seconds every request waits after a 429 that carries no Retry-After, "
        "before a rate has been learnt",
    )
    unlimited_above: float = Field(default=500.0, gt=0)


class ClientSettings(BaseModel):
    """Everything but credentials. Point both URLs at the emulator with ``for_base_url``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    auth_url: str = DEFAULT_AUTH_URL
    api_url: str = DEFAULT_API_URL
    http2: bool | None = Field(
        default=None,
        description="deprecated and ignored: the client speaks HTTP/1.1 with keep-alive",
    )
    timeout: float = Field(default=120.0, gt=0, description="read/write timeout in seconds")
    connect_timeout: float = Field(default=10.0, gt=0)
    max_concurrency: int = Field(default=8, ge=1, description="requests in flight per integration")
    retry: RetryPolicy = RetryPolicy()
    pacing: PacingPolicy = PacingPolicy()
    token_refresh_margin: float = Field(
        default=60.0, ge=0, description="refresh this many seconds before expires_in runs out"
    )
    page_size: int = Field(default=5000, ge=1, le=5000, description="cursor page size (max 5000)")
    max_import_bytes: int = Field(default=MAX_IMPORT_FILE_BYTES, ge=1)
    import_poll_interval: float = Field(default=2.0, gt=0)
    import_poll_max_interval: float = Field(default=30.0, gt=0)
    import_poll_growth: float = Field(
        default=1.5, ge=1.0, description="each wait between import status polls is this × the last"
    )
    import_timeout: float = Field(default=3600.0, gt=0)
    data_max_body_bytes: int = Field(
        default=50_000_000, ge=1, description="JSON body size per Data API call (limit 250 MB)"
    )
    data_max_records: int = Field(default=10_000, ge=1)

    @field_validator("http2")
    @classmethod
    def _http2_is_deprecated(cls, value: bool | None) -> bool | None:
        if value is not None:
            # FutureWarning: shown by default, unlike DeprecationWarning, to whoever set it.
            warnings.warn(
                "ClientSettings.http2 is deprecated and ignored: the Listrak client sends every "
                "request over HTTP/1.1 with keep-alive connections (aiohttp), which costs a "
                "fraction of the CPU of HTTP/2 through httpx2; remove the setting "
                "(see docs/explanation/http-client.md)",
                FutureWarning,
                stacklevel=2,
            )
        return value

    @classmethod
    def for_base_url(cls, base_url: str, **changes: object) -> ClientSettings:
        """Settings for a server that answers auth and the APIs on one URL (the emulator)."""
        url = base_url.rstrip("/")
        return cls.model_validate({"auth_url": url, "api_url": url, **changes})
