"""The ``sources:`` section of ``listrak-sync.yml``: what ``listrak-sync pull`` reads.

One entry per source, keyed by its name (which names its tables, state and events)::

    sources:
      newsletter:
        type: listrak_email
        credential: email_api          # a `credentials:` entry (type listrak)
        list_id: 1001
        subscribed_only: false
        fields: [11, 12, 13]           # profile field ids; `all_fields: true` takes every one
        field_names: {13: loyalty_id}  # column name overrides
        engagement: {enabled: true, since: 2026-01-01, lookback_days: 14}
        events:
          sink: {type: jsonl, path: events/newsletter.jsonl}
          user_id_field: 13
      sms:
        type: listrak_sms
        credential: sms_api
        sender_code_id: 301
        phone_lists: [2001]            # empty: every active list of the sender code
        opted_in_only: false

Unknown keys are errors, as everywhere in the project file.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from .credentials import SecretValue

__all__ = [
    "EmailSource",
    "EngagementConfig",
    "EventsConfig",
    "HttpSink",
    "JsonlSink",
    "Sink",
    "SmsSource",
    "Source",
    "SourcesSection",
]

_STRICT = ConfigDict(extra="forbid", frozen=True)


def _trait_spelling(value: Any) -> Any:
    # YAML reads `false` and `null` unquoted as a boolean and a null: the same choices.
    if value is False:
        return "false"
    if value is None:
        return "null"
    return value


_IDENT = r"^[A-Za-z_][A-Za-z0-9_]*$"
Identifier = Annotated[str, StringConstraints(pattern=_IDENT, max_length=63)]
SourceName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=40)]


class JsonlSink(BaseModel):
    """Events appended to a JSON Lines file (relative to the project folder)."""

    model_config = _STRICT

    type: Literal["jsonl"]
    path: str = Field(min_length=1)


class HttpSink(BaseModel):
    """A Segment-compatible batch endpoint: ``POST {url}`` with ``{"batch": [...]}`` and the
    write key as the basic-auth user name."""

    model_config = _STRICT

    type: Literal["http"]
    url: str = "https://api.segment.io/v1/batch"
    write_key: SecretValue
    batch_size: int = Field(default=100, ge=1, le=2500)
    max_attempts: int = Field(default=6, ge=1, description="tries per batch within one run")
    timeout: float = Field(default=30.0, gt=0)
    backoff_initial: float = Field(default=0.5, ge=0)
    backoff_max: float = Field(default=30.0, ge=0)

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("a URL starting with http:// or https://")
        return value


Sink = Annotated[JsonlSink | HttpSink, Field(discriminator="type")]


class EventsConfig(BaseModel):
    """Segment-spec events emitted after a pull."""

    model_config = _STRICT

    sink: Sink
    identify: bool = True
    track: bool = False  # engagement as track events (needs `engagement.enabled`)
    # Profile field id (email) or contact column (e.g. `external_contact_id`) giving `userId`.
    user_id_field: int | Identifier | None = None
    trait_prefix: str = Field(default="Listrak_list_", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    # How an unsubscribed contact's list trait is sent: false (the default), null, or left out
    # (`remove`, as Listrak's own Segment source does). Segment merges identify traits into the
    # profile, so a trait left out keeps its last value: after an unsubscribe the profile would
    # still say `true` forever. Only `false` (or `null`) clears it.
    unsubscribed_trait: Annotated[
        Literal["remove", "false", "null"], BeforeValidator(_trait_spelling)
    ] = "false"


class EngagementConfig(BaseModel):
    """Email messages and their activity (sends, opens, clicks, bounces, unsubscribes)."""

    model_config = _STRICT

    enabled: bool = False
    since: date | None = None  # first pull: messages sent on or after this day (all if unset)
    # Opens and clicks keep arriving after a send: each pull re-reads the activity of messages
    # sent this many days before the last one seen.
    lookback_days: int = Field(default=14, ge=0, le=365)


class _SourceBase(BaseModel):
    model_config = _STRICT

    credential: str = Field(min_length=1)
    table_prefix: Identifier | None = None  # default: listrak_{source name}
    field_names: dict[int, Identifier] = Field(default_factory=dict)


class EmailSource(_SourceBase):
    """One email list's contacts (and optionally its messages and activity)."""

    type: Literal["listrak_email"]
    list_id: int = Field(gt=0)
    subscribed_only: bool = False
    fields: list[int] = Field(default_factory=list)
    all_fields: bool = False
    engagement: EngagementConfig = Field(default_factory=EngagementConfig)
    events: EventsConfig | None = None

    @field_validator("fields")
    @classmethod
    def _unique(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("profile field ids are listed twice")
        return value

    @model_validator(mode="after")
    def _track_needs_engagement(self) -> EmailSource:
        if self.events is not None and self.events.track and not self.engagement.enabled:
            raise ValueError(
                "events.track needs engagement.enabled: true (track events come"
                " from the engagement tables)"
            )
        return self


class SmsSource(_SourceBase):
    """One SMS sender code: contacts of its lists, and its opt-outs."""

    type: Literal["listrak_sms"]
    sender_code_id: int = Field(gt=0)
    phone_lists: list[int] = Field(default_factory=list)
    opted_in_only: bool = False
    fields: list[int] = Field(default_factory=list)  # SMS profile field ids (all if empty)


Source = Annotated[EmailSource | SmsSource, Field(discriminator="type")]


class SourcesSection(BaseModel):
    """A file holding just ``sources:`` (``pull --config``), or the project file's section."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    sources: dict[SourceName, Source] = Field(default_factory=dict)
