"""Applying mappings to one event: which triggers match, and the profile-field update each makes.

An event either yields :class:`Update` records (queued for delivery) or, when a matching mapping
cannot be applied to it (no email address, a value that is an object...), a :class:`Rejection`
that goes straight to the dead-letter table with its reason. Nothing is dropped silently.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..config.event_paths import MISSING, JsonPath, first_present
from ..config.events import (
    AllOf,
    AnyOf,
    AudienceFields,
    Condition,
    EventDestination,
    EventIs,
    EventIsNot,
    EventMapping,
    FieldValue,
    PropertyEquals,
    TypeIs,
    UpdateProfileFields,
)

__all__ = [
    "FieldName",
    "FieldRef",
    "Rejection",
    "Update",
    "apply_mappings",
    "matches",
    "text_value",
]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_FIELD_NAME = 100


@dataclass(frozen=True)
class FieldName:
    """A profile field known by name in a group, resolved (or created) at delivery."""

    group: str
    name: str
    create: bool


FieldRef = int | FieldName


@dataclass(frozen=True)
class Update:
    """One contact's profile field values for one list, from one event and mapping."""

    mapping: str
    credential: str
    list_id: int
    email: str
    fields: tuple[tuple[FieldRef, str], ...]
    batched: bool = True
    message_id: str | None = None


@dataclass(frozen=True)
class Rejection:
    """A matching mapping that could not be applied to the event, and why."""

    mapping: str
    credential: str
    list_id: int
    email: str | None
    reason: str
    message_id: str | None = None


def _same(left: Any, right: Any) -> bool:
    # JSON equality: true is not 1, 1 is 1.0.
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left is right
    return bool(left == right)


def _property(event: Mapping[str, Any], name: str) -> Any:
    if name.startswith("$"):
        return JsonPath.parse(name).get(event)
    for holder in ("properties", "traits"):
        section = event.get(holder)
        if isinstance(section, dict) and name in section:
            return section[name]
    return MISSING


def matches(condition: Condition, event: Mapping[str, Any]) -> bool:
    """Whether ``event`` meets ``condition``."""
    if isinstance(condition, TypeIs):
        return event.get("type") in condition.type
    if isinstance(condition, EventIs):
        return event.get("event") in condition.event
    if isinstance(condition, EventIsNot):
        return event.get("event") not in condition.event_not
    if isinstance(condition, PropertyEquals):
        value = _property(event, condition.property)
        return value is not MISSING and _same(value, condition.equals)
    if isinstance(condition, AllOf):
        return all(matches(item, event) for item in condition.all)
    if isinstance(condition, AnyOf):
        return any(matches(item, event) for item in condition.any)
    raise TypeError(f"unknown condition {condition!r}")


def text_value(value: Any) -> str:
    """A JSON scalar as profile field text: booleans become ``on``/``off`` (CheckBox values)."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("is not a finite number")
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value
    raise ValueError(f"is {'an object' if isinstance(value, dict) else 'a list'}; fields hold text")


def _literal_or_path(item: Any, event: Mapping[str, Any]) -> tuple[str | None, Any]:
    """``(path, value)`` for a `$.path` item, ``(None, literal)`` otherwise."""
    if isinstance(item, str) and item.startswith("$"):
        if item.startswith("$$"):
            return None, item[1:]
        return item, JsonPath.parse(item).get(event)
    return None, item


def _field_value(given: FieldValue, event: Mapping[str, Any]) -> tuple[str | None, Any]:
    """``(where, value)`` of the first item of ``given`` present in ``event`` (not missing, not
    null); ``(the items looked at, MISSING)`` when none is."""
    looked: list[str] = []
    for item in given if isinstance(given, list) else [given]:
        source, value = _literal_or_path(item, event)
        if value is not MISSING and value is not None:
            return source, value
        looked.append(source or "null")
    return " or ".join(looked), MISSING


def _audience_field(
    audience: AudienceFields, event: Mapping[str, Any]
) -> tuple[FieldName, str] | str:
    """The audience's field and value, or the reason there is none."""
    path, key = first_present(audience.key, event)
    if key is MISSING:
        return f"no audience key at {' or '.join(audience.key)}"
    if not isinstance(key, str) or not key.strip():
        return f"the audience key at {path} is not a name"
    if len(key) > _MAX_FIELD_NAME:
        return f"the audience key at {path} is longer than {_MAX_FIELD_NAME} characters"
    flag = MISSING
    for holder in ("properties", "traits"):
        section = event.get(holder)
        if isinstance(section, dict) and isinstance(section.get(key), bool):
            flag = section[key]
            break
    if flag is MISSING:
        flag = event.get("event") not in audience.exited_events
    field = FieldName(audience.field_group, key, audience.create_missing)
    return field, "on" if flag else "off"


def _apply(
    name: str, mapping: EventMapping, event: Mapping[str, Any], default_credential: str
) -> Update | Rejection:
    action: UpdateProfileFields = mapping.action
    credential = action.credential or default_credential
    message_id = event.get("messageId")
    message_id = str(message_id) if message_id is not None else None

    def reject(reason: str, email: str | None = None) -> Rejection:
        return Rejection(name, credential, action.list_id, email, reason, message_id)

    path, email = first_present(action.email, event)
    if email is MISSING:
        return reject(f"no email address at {' or '.join(action.email)}")
    if not isinstance(email, str) or not _EMAIL.match(email.strip()):
        return reject(f"the value at {path} is not an email address")
    email = email.strip()
    fields: list[tuple[FieldRef, str]] = []
    looked: list[str] = []
    for field_id, given in action.fields.items():
        source, value = _field_value(given, event)
        if value is MISSING:
            looked.append(source or "null")
            continue  # an absent value leaves the field as it is
        try:
            fields.append((field_id, text_value(value)))
        except ValueError as exc:
            return reject(
                f"profile field {field_id}: the value at {source or 'literal'} {exc}", email
            )
    if action.audience is not None:
        found = _audience_field(action.audience, event)
        if isinstance(found, str):
            return reject(found, email)
        fields.append(found)
    if not fields:
        return reject(
            f"no profile field values in the event (looked at {', '.join(looked)})", email
        )
    return Update(
        name, credential, action.list_id, email, tuple(fields), action.batching, message_id
    )


def apply_mappings(
    destination: EventDestination, event: Mapping[str, Any]
) -> list[Update | Rejection]:
    """What every enabled mapping whose trigger matches makes of ``event``, in mapping order."""
    return [
        _apply(name, mapping, event, destination.credential)
        for name, mapping in destination.mappings.items()
        if mapping.enabled and matches(mapping.trigger, event)
    ]
