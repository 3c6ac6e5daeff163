"""The event destination's settings (``type: listrak_events``) and its mappings, as pydantic models.

A mapping is a trigger (conditions on the event, combinable with ``all``/``any``) and an action,
*Update Email Contact Profile Fields*. Values in an action are literals or JSON paths into the
event (``$.properties.plan``); a literal that starts with ``$`` is written with ``$$``. Every
value may also be a list tried in order, the first present one winning
(``[$.traits.plan, $.context.traits.plan]``): senders put the same trait in different places
(Segment's libraries under ``traits``, RudderStack's only under ``context.traits``), and one
mapping has to serve them all.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from .event_paths import JsonPath

__all__ = [
    "CONDITION_TAGS",
    "MAX_MAPPINGS",
    "AllOf",
    "AnyOf",
    "AudienceFields",
    "Batching",
    "Condition",
    "EventDestination",
    "EventIs",
    "EventIsNot",
    "EventMapping",
    "EventType",
    "FieldValue",
    "IntakeLimits",
    "PropertyEquals",
    "RetryPolicy",
    "TypeIs",
    "UpdateProfileFields",
]

MAX_MAPPINGS = 50
_STRICT = ConfigDict(extra="forbid", frozen=True)
_NAME = r"^[A-Za-z][A-Za-z0-9_\-]*$"
_KEY_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")

EventType = Literal["track", "identify", "page", "screen", "group", "alias"]
Scalar = str | int | float | bool | None
# A literal or `$.path`, or a list of them tried in order (the first present value wins).
FieldValue = Scalar | list[Scalar]


def _paths(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _path_list(value: list[str]) -> list[str]:
    for text in value:
        JsonPath.parse(text)  # raises ValueError naming the problem
    return value


# One path, or several tried in order until one is present in the event.
Paths = Annotated[list[str], BeforeValidator(_paths), Field(min_length=1)]


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class TypeIs(BaseModel):
    """The event's ``type`` is one of these."""

    model_config = _STRICT

    type: Annotated[list[EventType], BeforeValidator(_one_or_many), Field(min_length=1)]


class EventIs(BaseModel):
    """A track event whose name is one of these (exact, case-sensitive, as Segment compares)."""

    model_config = _STRICT

    event: Annotated[list[str], BeforeValidator(_one_or_many), Field(min_length=1)]


class EventIsNot(BaseModel):
    """The event's name is none of these (events without a name pass)."""

    model_config = _STRICT

    event_not: Annotated[list[str], BeforeValidator(_one_or_many), Field(min_length=1)]


class PropertyEquals(BaseModel):
    """A property equals a value. A bare name is ``$.properties.NAME``, then ``$.traits.NAME``."""

    model_config = _STRICT

    property: str = Field(min_length=1)
    equals: Scalar

    @field_validator("property")
    @classmethod
    def _path(cls, value: str) -> str:
        if value.startswith("$"):
            JsonPath.parse(value)
        return value


class AllOf(BaseModel):
    model_config = _STRICT

    all: list[Condition] = Field(min_length=1)


class AnyOf(BaseModel):
    model_config = _STRICT

    any: list[Condition] = Field(min_length=1)


# Tags name the models, so they never look like a field in an error's location.
_KINDS = {
    "type": "TypeIs",
    "event": "EventIs",
    "event_not": "EventIsNot",
    "property": "PropertyEquals",
    "all": "AllOf",
    "any": "AnyOf",
}
CONDITION_TAGS = frozenset(_KINDS.values())


def _condition_kind(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if not isinstance(value, dict):
        return None
    found = [_KINDS[key] for key in value if key in _KINDS]
    return found[0] if len(found) == 1 else None


Condition = Annotated[
    Annotated[TypeIs, Tag("TypeIs")]
    | Annotated[EventIs, Tag("EventIs")]
    | Annotated[EventIsNot, Tag("EventIsNot")]
    | Annotated[PropertyEquals, Tag("PropertyEquals")]
    | Annotated[AllOf, Tag("AllOf")]
    | Annotated[AnyOf, Tag("AnyOf")],
    Discriminator(
        _condition_kind,
        custom_error_type="condition",
        custom_error_message=(
            "a condition has exactly one of: type, event, event_not, property (with equals), "
            "all, any"
        ),
    ),
]
AllOf.model_rebuild()
AnyOf.model_rebuild()


class AudienceFields(BaseModel):
    """One mapping for every audience: the field is named by the audience key.

    The field is looked up by that name in ``field_group`` (case-insensitive) and created as a
    CheckBox field when missing (the group too). The value is the boolean the event carries
    under the key (``properties[key]`` or ``traits[key]``, as Segment Engage sends them), else
    ``off`` for the ``exited_events`` and ``on`` for anything else.
    """

    model_config = _STRICT

    key: Paths = Field(
        default_factory=lambda: ["$.properties.audience_key", "$.context.personas.computation_key"]
    )
    field_group: str = Field(default="Segment Audiences", min_length=1, max_length=100)
    create_missing: bool = True
    exited_events: list[str] = Field(default_factory=lambda: ["Audience Exited"])

    _check_key = field_validator("key")(_path_list)


class UpdateProfileFields(BaseModel):
    """Action *Update Email Contact Profile Fields* on one email list."""

    model_config = _STRICT

    type: Literal["update_profile_fields"] = "update_profile_fields"
    list_id: int = Field(gt=0)
    # Track calls carry the address in context.traits; Segment's identify calls in traits.
    email: Paths = Field(default_factory=lambda: ["$.context.traits.email", "$.traits.email"])
    # Profile field id -> a literal value or a `$.path` into the event, or a list of them.
    fields: dict[int, FieldValue] = Field(default_factory=dict)
    audience: AudienceFields | None = None
    batching: bool = True
    credential: str | None = None  # another integration than the destination's

    _check_email = field_validator("email")(_path_list)

    @field_validator("fields")
    @classmethod
    def _field_values(cls, value: dict[int, FieldValue]) -> dict[int, FieldValue]:
        for field_id, given in value.items():
            if field_id <= 0:
                raise ValueError(f"profile field id {field_id} is not a positive number")
            if isinstance(given, list) and not given:
                raise ValueError(f"profile field {field_id}: an empty list of paths")
            for item in given if isinstance(given, list) else [given]:
                if isinstance(item, str) and item.startswith("$") and not item.startswith("$$"):
                    JsonPath.parse(item)
        return value

    @model_validator(mode="after")
    def _something(self) -> UpdateProfileFields:
        if not self.fields and self.audience is None:
            raise ValueError(
                "give `fields` (profile field id -> value or $.path), `audience`, or both"
            )
        return self


class EventMapping(BaseModel):
    """When an event matches ``trigger``, ``action`` runs for it."""

    model_config = _STRICT

    enabled: bool = True
    trigger: Condition
    action: UpdateProfileFields


class Batching(BaseModel):
    """Updates for one list are sent together: up to ``max_contacts`` contacts per call, after
    at most ``max_wait_seconds`` from the oldest queued update."""

    model_config = _STRICT

    max_contacts: int = Field(default=1000, ge=1, le=10_000)
    max_wait_seconds: float = Field(default=2.0, ge=0, le=3600)


class RetryPolicy(BaseModel):
    """Transient failures (429, 5xx, no answer) after the client's own retries: the batch is
    tried again with exponential backoff; after ``max_attempts`` its updates are dead-lettered."""

    model_config = _STRICT

    max_attempts: int = Field(default=12, ge=1)
    initial_backoff_seconds: float = Field(default=1.0, gt=0)
    max_backoff_seconds: float = Field(default=300.0, gt=0)


class IntakeLimits(BaseModel):
    """Segment's limits (32 KB per event, 500 KB per batch request), and what keeps a client
    from holding the server: nesting depth, time to send headers and body, open connections."""

    model_config = _STRICT

    max_event_bytes: int = Field(default=32 * 1024, ge=1024)
    max_batch_bytes: int = Field(default=500 * 1024, ge=1024)
    max_json_depth: int = Field(default=64, ge=8, le=512)
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    body_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    max_connections: int = Field(default=256, ge=1, le=100_000)


class EventDestination(BaseModel):
    """``listrak-sync serve``: a Segment-compatible endpoint delivering to Listrak email lists."""

    model_config = _STRICT

    type: Literal["listrak_events"]
    credential: str = Field(min_length=1)
    # SHA-256 of each accepted write key, `sha256:<hex>` (`listrak-sync events hash-key`).
    write_keys: list[str] = Field(min_length=1)
    queue_file: str = "events.sqlite"  # relative to the project folder
    batch: Batching = Field(default_factory=Batching)
    concurrency: int = Field(default=4, ge=1, le=64, description="calls in flight per integration")
    max_in_flight_per_list: int = Field(default=4, ge=1, le=64)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    limits: IntakeLimits = Field(default_factory=IntakeLimits)
    log_pii: bool = False  # include email addresses in logs
    mappings: dict[Annotated[str, Field(pattern=_NAME, max_length=100)], EventMapping] = Field(
        default_factory=dict, max_length=MAX_MAPPINGS
    )

    @field_validator("write_keys")
    @classmethod
    def _hashes(cls, value: list[str]) -> list[str]:
        for item in value:
            if not _KEY_HASH.match(item):
                raise ValueError(
                    "write keys are stored as hashes: `sha256:` and 64 lower-case hex digits "
                    "(print one with `listrak-sync events hash-key`)"
                )
        return value

    def credentials(self) -> list[str]:
        """Every credential name the mappings use, the destination's first."""
        names = [self.credential]
        for mapping in self.mappings.values():
            extra = mapping.action.credential
            if extra is not None and extra not in names:
                names.append(extra)
        return names
