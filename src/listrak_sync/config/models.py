"""The project file, ``listrak-sync.yml``, as pydantic models.

Sections: ``warehouse``, ``state`` (where syncs keep their memory), ``listrak`` (API hosts),
``credentials``, ``destinations``, ``segments``, ``campaigns``, ``schedules``, ``alerts``,
``scheduler`` (models in ``config.schedules``), ``sources`` (what ``pull`` reads; models in
``config.sources``), ``console`` (web console users, in ``config.console``).
Unknown keys are errors (a typo must not silently do nothing).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from ..warehouse import WarehouseError
from ..warehouse import parse as parse_warehouse
from .console import ConsoleConfig
from .credentials import Credential, SecretValue
from .destinations import Attribute, Destination
from .filters import FilterNode
from .schedules import AlertsConfig, Schedule, SchedulerSettings
from .sources import Source, SourceName

__all__ = [
    "CONTROL_GROUP",
    "Campaign",
    "CampaignDestination",
    "ControlGroup",
    "DedupeRule",
    "EmailOptStatus",
    "ForgetConfig",
    "ListrakHosts",
    "PreferColumn",
    "ProjectConfig",
    "Schedule",
    "Segment",
    "SmsOptStatus",
    "StateConfig",
    "TreatmentGroup",
    "WarehouseConfig",
]

_STRICT = ConfigDict(extra="forbid", frozen=True)
_NAME = r"^[A-Za-z][A-Za-z0-9_\-]*$"
# Names become table, field and file names downstream, so keep them plain.
Name = Annotated[str, StringConstraints(pattern=_NAME, max_length=100)]
CONTROL_GROUP = "control"


class SmsOptStatus(BaseModel):
    """The table that says who consented to SMS (issue 6 fills it from Listrak with `pull`).

    Its phones are normalised like audience phones before they are compared."""

    model_config = _STRICT

    table: str = "sms_opt_status"
    phone_column: str = "phone"
    status_column: str = "status"
    opted_in_values: list[str] = Field(default_factory=lambda: ["opted_in"], min_length=1)
    # With several rows per number, the latest by this column decides; without it, a number
    # is opted in only if every row for it says so.
    updated_column: str | None = None


class EmailOptStatus(BaseModel):
    """The table that says who unsubscribed from email (compared on trimmed, lower-cased email)."""

    model_config = _STRICT

    table: str = "email_opt_status"
    email_column: str = "email"
    status_column: str = "status"
    unsubscribed_values: list[str] = Field(default_factory=lambda: ["unsubscribed"], min_length=1)


class SparkSnapshots(BaseModel):
    """Where a Spark warehouse keeps the last-synced snapshots so the cluster plans against them
    (docs/explanation/spark.md, "The snapshot in the cluster"): managed tables in ``namespace``
    (a database, or ``catalog.schema`` on Unity Catalog), one per committed run, in ``format``."""

    model_config = _STRICT

    # The database (``listrak_sync``) or ``catalog.schema`` (``main.listrak_sync``) holding the
    # snapshot tables; it must exist. Its location decides where their files go.
    namespace: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
    # The tables' format: Delta and Iceberg need their Spark packages on the cluster.
    format: Literal["parquet", "delta", "iceberg"] = "parquet"


class WarehouseConfig(BaseModel):
    """Where customer data lives and which tables play which role."""

    model_config = _STRICT

    # A DuckDB file (relative to the project folder), an engine URL such as
    # ``duckdb:///warehouse.duckdb?threads=2``, ``postgresql://user@host:5432/db``,
    # ``snowflake://USER@ACCOUNT/DB/SCHEMA?warehouse=WH&role=ROLE`` or ``sc://host:15002``
    # (Spark Connect), or an embedded Spark's ``local[*]``.
    connection: str = "warehouse.duckdb"
    # The server password, by reference (``{env: NAME}`` or ``{secret: NAME}``), never in the URL;
    # for Snowflake with ``private_key_file`` in the URL, the key's passphrase; for Spark Connect,
    # the access token.
    password: SecretValue | None = None
    customer_table: str = "customer_360"
    profile_table: str = "merged_customers"
    customer_key: str = "customer_id"
    # Profile-table columns that hold the contact keys (destinations may override).
    email_column: str = "email"
    phone_column: str = "phone"
    # Region for phones written without a country code (SMS destinations may override).
    default_region: str = Field(default="US", pattern=r"^[A-Z]{2}$")
    email_opt_status: EmailOptStatus = Field(default_factory=EmailOptStatus)
    sms_opt_status: SmsOptStatus = Field(default_factory=SmsOptStatus)
    # Spark Connect only: snapshots kept in the cluster's catalog, so a sync (Databricks) plans
    # inside Spark; without it such a sync plans in this process's DuckDB.
    snapshots: SparkSnapshots | None = None

    @field_validator("connection")
    @classmethod
    def _connection(cls, value: str) -> str:
        try:
            parse_warehouse(value)
        except WarehouseError as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _snapshots_on_spark(self) -> WarehouseConfig:
        remote = getattr(parse_warehouse(self.connection), "remote", None)
        if self.snapshots is not None and remote is None:
            raise ValueError(
                "snapshots: only a Spark Connect warehouse (sc://) keeps them in its catalog "
                "(an embedded Spark reads the state folder's)"
            )
        return self


class StateConfig(BaseModel):
    """Where syncs keep runs, the journal, row outcomes, snapshots and ownership.

    ``local``: ``.listrak-sync/`` in the project folder. ``warehouse``: tables in ``schema`` of
    the warehouse (PostgreSQL), so a runner that starts empty (CI, a container) resumes and
    decides as a long-lived host would; locks then hold across hosts. ``connection`` and
    ``password`` name another PostgreSQL database for the state than the warehouse itself
    (e.g. a DuckDB warehouse with shared state); by default it is the warehouse's.
    """

    model_config = _STRICT

    store: Literal["local", "warehouse"] = "local"
    schema_: str = Field(
        default="listrak_sync",
        alias="schema",
        pattern=r"^[a-z_][a-z0-9_]*$",
        max_length=63,
        description="The schema of the state tables (created if missing).",
    )
    connection: str | None = Field(
        default=None,
        description=(
            "A postgresql:// or snowflake:// URL for the state (default: warehouse.connection)."
        ),
    )
    password: SecretValue | None = Field(
        default=None, description="Its password, by reference: {env: NAME} or {secret: NAME}."
    )

    @field_validator("connection")
    @classmethod
    def _connection(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_warehouse(value)
            except WarehouseError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _store_needs_warehouse(self) -> StateConfig:
        if self.store == "local" and (self.connection or self.password):
            raise ValueError("connection and password apply to `store: warehouse` only")
        return self


class ListrakHosts(BaseModel):
    """Listrak's hosts; point both at the emulator to work against the sandbox."""

    model_config = _STRICT

    api_url: str = "https://api.listrak.com"
    auth_url: str = "https://auth.listrak.com"

    @field_validator("api_url", "auth_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("a URL starting with http:// or https://")
        return value.rstrip("/")


class Segment(BaseModel):
    """A named audience: SQL returning customer keys, or a structured filter."""

    model_config = _STRICT

    description: str | None = None
    sql: str | None = None
    filter: FilterNode | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Segment:
        if (self.sql is None) == (self.filter is None):
            raise ValueError("a segment has either `sql` or `filter` (exactly one)")
        return self


class CampaignDestination(BaseModel):
    """A campaign's edits to a destination's default attributes."""

    model_config = _STRICT

    attribute_table: str | None = None  # where this destination's attributes come from
    attributes: list[Attribute] | None = None  # replaces the defaults when given
    add_attributes: list[Attribute] = Field(default_factory=list)
    remove_attributes: list[str] = Field(default_factory=list)  # by column or field name


class TreatmentGroup(BaseModel):
    """A share of the campaign's audience and the destinations it is sent to."""

    model_config = _STRICT

    name: Name
    percent: float = Field(gt=0, le=100)
    destinations: list[str] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _not_control(cls, value: str) -> str:
        if value.lower() == CONTROL_GROUP:
            raise ValueError("`control` is reserved for the control group (see `control:`)")
        return value


class ControlGroup(BaseModel):
    """A share of the audience that receives nothing (to measure the campaign against)."""

    model_config = _STRICT

    percent: float = Field(gt=0, lt=100)


class PreferColumn(BaseModel):
    """One ordering step of the dedupe rule."""

    model_config = _STRICT

    column: str
    order: Literal["asc", "desc"] = "desc"


class DedupeRule(BaseModel):
    """Which customer wins when several share an email or phone: the first by ``prefer`` (nulls
    last), then the lowest customer key."""

    model_config = _STRICT

    prefer: list[PreferColumn] = Field(default_factory=list)


class Campaign(BaseModel):
    """A segment minus exclusions, split into treatment groups, sent to destinations."""

    model_config = _STRICT

    description: str | None = None
    segment: str
    exclude: list[str] = Field(default_factory=list)
    salt: str | None = None  # the split's salt; the campaign name when not set
    groups: list[TreatmentGroup] = Field(min_length=1)
    control: ControlGroup | None = None
    send_groups: Literal["separately", "together"] = "together"
    attribute_table: str | None = None  # defaults to the warehouse's profile table
    dedupe: DedupeRule = Field(default_factory=DedupeRule)
    destinations: dict[str, CampaignDestination] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _shares(self) -> Campaign:
        names = [g.name for g in self.groups]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"treatment group names must be unique: {', '.join(duplicates)}")
        total = sum(g.percent for g in self.groups) + (self.control.percent if self.control else 0)
        if abs(total - 100) > 1e-9:
            raise ValueError(f"group percentages (plus control) add up to {total:g}, not 100")
        for share in [g.percent for g in self.groups] + (
            [self.control.percent] if self.control else []
        ):
            if abs(share * 100 - round(share * 100)) > 1e-9:
                raise ValueError(
                    "percentages have at most two decimals (the split has 10,000 buckets)"
                )
        return self


class ForgetConfig(BaseModel):
    """Where deletion requests (CCPA, GDPR) come from, for ``listrak-sync forget``.

    ``table`` or ``sql`` gives rows with an email and/or a phone column and the time each
    request was made; ``credential`` names a Listrak credential of integration type Privacy.
    """

    model_config = _STRICT

    credential: str
    table: str | None = "deletion_requests"
    sql: str | None = None
    email_column: str = "email"
    phone_column: str = "phone"
    requested_at_column: str = "requested_at"
    default_region: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    poll_interval: float = Field(default=5.0, gt=0, description="seconds between status checks")
    poll_timeout: float = Field(default=900.0, gt=0, description="seconds to wait for COMPLETE")


class ProjectConfig(BaseModel):
    """The whole of ``listrak-sync.yml``."""

    model_config = _STRICT

    version: Literal[1] = 1
    name: str = Field(default="listrak-sync project", min_length=1)
    warehouse: WarehouseConfig = Field(default_factory=WarehouseConfig)
    state: StateConfig = Field(default_factory=StateConfig)
    listrak: ListrakHosts = Field(default_factory=ListrakHosts)
    secrets_file: str = "secrets.yml"
    credentials: dict[Name, Credential] = Field(default_factory=dict)
    destinations: dict[Name, Destination] = Field(default_factory=dict)
    segments: dict[Name, Segment] = Field(default_factory=dict)
    campaigns: dict[Name, Campaign] = Field(default_factory=dict)
    schedules: dict[Name, Schedule] = Field(default_factory=dict)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    forget: ForgetConfig | None = None
    # Source names become table names, so they cannot contain `-`.
    sources: dict[SourceName, Source] = Field(default_factory=dict)
    console: ConsoleConfig = Field(default_factory=ConsoleConfig)  # `listrak-sync ui` users
