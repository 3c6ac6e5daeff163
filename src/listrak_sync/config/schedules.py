"""The ``schedules:`` and ``alerts:`` sections of ``listrak-sync.yml``, as pydantic models.

The scheduler (``runtime/``) reads these; they live with the other project-file models so that
loading a project never imports the scheduler. Secret values (webhook URLs, SMTP passwords,
signing keys) are ``{env: NAME}`` or ``{secret: NAME}`` references, resolved only when a message
is sent.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from .credentials import SecretValue, Value

__all__ = [
    "AlertChannel",
    "AlertConditions",
    "AlertsConfig",
    "Duration",
    "EmailChannel",
    "Schedule",
    "SchedulerSettings",
    "SlackChannel",
    "WebhookChannel",
    "check_cron",
    "parse_duration",
]


def check_cron(expression: str) -> None:
    """ValueError naming the field when ``expression`` is not a five-field cron expression."""
    # cronsim is imported only once a cron is written: loading a project stays light.
    from cronsim import CronSim, CronSimError

    if len(expression.split()) != 5:
        raise ValueError("a cron expression has five fields: minute hour day month weekday")
    try:
        CronSim(expression, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as exc:
        raise ValueError(f"invalid cron expression {expression!r}: {exc}") from None


_STRICT = ConfigDict(extra="forbid", frozen=True)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object) -> timedelta:
    """``90`` (seconds), ``"90s"``, ``"15m"``, ``"6h"`` or ``"1d"`` as a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        found = _DURATION.match(value)
        if found:
            return timedelta(seconds=float(found.group(1)) * _UNITS[found.group(2)])
    raise ValueError("a duration such as 90s, 15m, 6h or 1d")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class AlertConditions(BaseModel):
    """When a schedule's alert channels hear from it. A condition left out (None) is off;
    a run failing, the removal guard stopping one and the schedule pausing itself always alert."""

    model_config = _STRICT

    # Runs whose rejected (undeliverable) or failed rows are more than this share of the audience.
    rejected_share: float | None = Field(default=0.05, ge=0, le=1)
    # No successful run of the schedule for this long.
    no_success_for: Duration | None = None
    # An audience's size changed by more than this percentage against the previous run.
    audience_change_percent: float | None = Field(default=None, gt=0)


class Schedule(BaseModel):
    """What runs when: deletion requests (``forget``), ``pull`` sources, campaign syncs and
    ``export`` destinations, on a cron expression in a time zone, every fixed interval, or after
    other schedules succeeded."""

    model_config = _STRICT

    cron: str | None = None  # five fields: minute hour day month weekday
    every: Duration | None = None
    after: list[str] = Field(default_factory=list)  # schedules whose success starts this one
    timezone: str = "UTC"
    campaigns: list[str] = Field(default_factory=list)
    pulls: list[str] = Field(default_factory=list)  # sources, as `listrak-sync pull NAME`
    exports: list[str] = Field(default_factory=list)  # listrak_files/listrak_data destinations
    forget: bool = False  # submit the project's deletion requests first, as `listrak-sync forget`
    # After downtime, fires missed less than this long ago run once; older ones are recorded
    # as missed. (APScheduler's default of one second would drop nearly all of them.)
    grace: Duration = timedelta(hours=1)
    max_failures: int = Field(default=3, ge=1)  # failed runs in a row that pause the schedule
    alerts: list[str] = Field(default_factory=list)  # channel names under `alerts.channels`
    conditions: AlertConditions = Field(default_factory=AlertConditions)

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        check_cron(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. UTC, America/New_York)") from None
        return value

    @field_validator("every")
    @classmethod
    def _every(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < timedelta(minutes=1):
            raise ValueError("`every` is at least one minute")
        return value

    @model_validator(mode="after")
    def _shape(self) -> Schedule:
        triggers = [n for n, v in (("cron", self.cron), ("every", self.every)) if v is not None]
        if self.after:
            triggers.append("after")
        if len(triggers) != 1:
            raise ValueError("a schedule has exactly one of `cron`, `every` or `after`")
        if not (self.campaigns or self.pulls or self.exports or self.forget):
            raise ValueError(
                "a schedule runs something: `campaigns`, `pulls`, `exports` or `forget: true`"
            )
        return self

    @property
    def targets(self) -> list[tuple[str, str]]:
        """(kind, name) in the order they run: deletion requests first (a forgotten person is
        then left out of everything after), pulls (they feed consent tables), campaign syncs,
        exports."""
        return (
            ([("forget", "deletion requests")] if self.forget else [])
            + [("pull", n) for n in self.pulls]
            + [("sync", n) for n in self.campaigns]
            + [("export", n) for n in self.exports]
        )


class SlackChannel(BaseModel):
    """A Slack incoming webhook; its URL is the secret."""

    model_config = _STRICT

    type: Literal["slack"]
    url: SecretValue


class WebhookChannel(BaseModel):
    """A JSON POST to any URL, with optional headers and an HMAC-SHA256 signature header
    (hex digest of ``{timestamp}.{body}``, so a receiver can refuse replays)."""

    model_config = _STRICT

    type: Literal["webhook"]
    url: Value
    headers: dict[str, Value] = Field(default_factory=dict)
    signing_secret: SecretValue | None = None
    signature_header: str = "X-Listrak-Sync-Signature"
    timeout: float = Field(default=10.0, gt=0)


class EmailChannel(BaseModel):
    """Mail over SMTP: STARTTLS (default), implicit TLS, or plain on a trusted relay."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    type: Literal["email"]
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: Value | None = None
    password: SecretValue | None = None
    ca_file: str | None = None  # CA bundle for a relay with a private certificate
    sender: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    timeout: float = Field(default=30.0, gt=0)


AlertChannel = Annotated[SlackChannel | WebhookChannel | EmailChannel, Field(discriminator="type")]


class AlertsConfig(BaseModel):
    """Named alert channels; schedules name the ones they report to."""

    model_config = _STRICT

    channels: dict[str, AlertChannel] = Field(default_factory=dict)


class SchedulerSettings(BaseModel):
    """How ``listrak-sync scheduler`` serves its metrics and stops."""

    model_config = _STRICT

    metrics_host: str = "127.0.0.1"  # loopback unless you mean to expose it
    metrics_port: int = Field(default=9464, ge=0, le=65535)
    # On SIGTERM a run gets this long to reach a safe point before it is killed (its journal
    # still lets the next start finish it).
    shutdown_timeout: Duration = timedelta(seconds=60)
    poll_interval: Duration = timedelta(seconds=1)
