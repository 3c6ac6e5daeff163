"""Path and query parameters, checked against the spec before a handler runs.

The specs type each parameter (``integer``/``int32``, ``boolean``, ``string`` with a ``date-time``
or ``uuid`` format) and state the rest in prose: "Allowed values are `Subscribed` and
`Unsubscribed`", "Options are `active` or `inactive`", "The default value is `1000` and the
maximum value is `5000`". :func:`parameter_rules` turns both into one rule per parameter, so a
value the real API would refuse gets ``ERROR_INVALID_PARAMETER`` naming the parameter, the same way
for every operation, and handlers read already-typed values with defaults filled in.

Choices where the spec is silent: enum values and booleans match case-insensitively (ASP.NET
model binding does), a documented maximum makes the parameter a whole number from 1 up to it, and
an empty query value counts as absent.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import Any

from .errors import ListrakHTTPError
from .spec import allowed_values, spec_operations

__all__ = ["ParameterRule", "canonical_query", "check_parameters", "parameter_rules"]

_INT32 = (-(2**31), 2**31 - 1)
_MAXIMUM = re.compile(r"maximum value is `(\d+)`")
_DEFAULT = re.compile(r"default value is `([^`]*)`")


@dataclass(frozen=True)
class ParameterRule:
    """What the spec allows for one path or query parameter."""

    name: str
    location: str  # "path" or "query"
    type: str  # "integer", "number", "boolean" or "string"
    format: str | None = None
    required: bool = False
    enum: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    default: Any = None

    def parse(self, raw: str) -> Any:
        """The typed value of ``raw``, or ``ERROR_INVALID_PARAMETER`` naming this parameter."""
        value = self._typed(raw)
        if isinstance(value, int) and not isinstance(value, bool):
            low = self.minimum if self.minimum is not None else _INT32[0]
            high = self.maximum if self.maximum is not None else _INT32[1]
            if not low <= value <= high:
                raise ListrakHTTPError.invalid_parameter(
                    self.name, f"The value must be between {low} and {high}."
                )
        return value

    def _typed(self, raw: str) -> Any:
        if self.type == "integer":
            try:
                return int(raw)
            except ValueError:
                raise ListrakHTTPError.invalid_parameter(
                    self.name, "The value must be a whole number."
                ) from None
        if self.type == "number":
            try:
                return float(raw)
            except ValueError:
                raise ListrakHTTPError.invalid_parameter(
                    self.name, "The value must be a number."
                ) from None
        if self.type == "boolean":
            if raw.lower() in ("true", "false"):
                return raw.lower() == "true"
            raise ListrakHTTPError.invalid_parameter(self.name, "Use true or false.")
        if self.enum:
            match = next((item for item in self.enum if item.lower() == raw.lower()), None)
            if match is None:
                allowed = ", ".join(self.enum)
                raise ListrakHTTPError.invalid_parameter(
                    self.name, f"Allowed values are {allowed}."
                )
            return match
        if self.format == "date-time":
            try:
                return datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                raise ListrakHTTPError.invalid_parameter(
                    self.name, "The value must be an ISO 8601 date and time."
                ) from None
        if self.format == "uuid":
            try:
                return uuid.UUID(raw)
            except ValueError:
                raise ListrakHTTPError.invalid_parameter(
                    self.name, "The value must be a UUID."
                ) from None
        return raw


def _rule(param: Mapping[str, Any]) -> ParameterRule:
    description = str(param.get("description") or "")
    kind = str(param.get("type", "string"))
    enum = tuple(str(item) for item in param.get("enum", ())) or allowed_values(description)
    maximum = param.get("maximum")
    minimum = param.get("minimum")
    documented_max = _MAXIMUM.search(description)
    if maximum is None and documented_max:
        # Page sizes are typed string in the spec but documented as numbers with a maximum.
        kind, maximum, minimum = "integer", int(documented_max.group(1)), 1
    rule = ParameterRule(
        name=str(param["name"]),
        location=str(param["in"]),
        type=kind,
        format=param.get("format"),
        required=bool(param.get("required", False)),
        enum=enum,
        minimum=minimum,
        maximum=maximum,
    )
    documented_default = _DEFAULT.search(description)
    if documented_default:
        return replace(rule, default=rule.parse(documented_default[1]))
    return rule


@cache
def parameter_rules(api: str, operation_id: str) -> tuple[ParameterRule, ...]:
    """The path and query parameter rules of one operation, in spec order."""
    op = spec_operations(api)[operation_id]
    return tuple(_rule(param) for param in op.parameters if param.get("in") in ("path", "query"))


def canonical_query(
    api: str, operation_id: str, items: Iterable[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The query as the API binds it: declared names and enum values in the spec's spelling.

    ``?COUNT=10&subscriptionstate=unsubscribed`` becomes
    ``?count=10&subscriptionState=Unsubscribed``, so a handler reading ``request.query_params``
    directly sees what ASP.NET would bind.
    Undeclared parameters and values that do not match are left for validation to judge.
    """
    rules = {rule.name.lower(): rule for rule in parameter_rules(api, operation_id)}
    out = []
    for name, value in items:
        rule = rules.get(name.lower())
        if rule is None or rule.location != "query":
            out.append((name, value))
            continue
        if rule.enum:
            value = next((item for item in rule.enum if item.lower() == value.lower()), value)
        elif rule.type == "boolean" and value.lower() in ("true", "false"):
            value = value.lower()
        out.append((rule.name, value))
    return out


def check_parameters(
    api: str,
    operation_id: str,
    path_params: Mapping[str, str],
    query_params: Mapping[str, str],
) -> dict[str, Any]:
    """Every declared parameter, typed, with documented defaults for absent query parameters.

    Raises ``ERROR_INVALID_PARAMETER`` for the first value the spec does not allow, or for a
    missing required one. Parameters the spec does not declare are ignored, as Listrak does.
    """
    # ASP.NET binds query names case-insensitively: ?Count=10 is ?count=10.
    query = {name.lower(): value for name, value in query_params.items()}
    values: dict[str, Any] = {}
    for rule in parameter_rules(api, operation_id):
        if rule.location == "path":
            raw = path_params.get(rule.name)
        else:
            raw = query.get(rule.name.lower())
        if raw is None or raw == "":
            if rule.required:
                raise ListrakHTTPError.invalid_parameter(rule.name, "A value is required.")
            values[rule.name] = rule.default
            continue
        values[rule.name] = rule.parse(raw)
    return values
