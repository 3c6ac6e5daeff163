"""Listrak's official Swagger 2.0 specs, shipped with the package, and request validation.

The emulator validates request bodies against the spec's own schemas instead of restating them
in code, so a request the real API would reject for a missing required field, a wrong type or a
value outside an enum is rejected here with ``ERROR_INVALID_PARAMETER`` naming the field, and
null is accepted exactly where the spec marks a member ``x-nullable``. The
specs give most enums in prose ("Allowed values are `Text`, `Numeric`, ..."); those are enforced
too, case-insensitively as the API's JSON binding reads them.
``specs/`` holds the files exactly as Listrak publishes them (tests/emulator/conformance/
test_specs.py compares them byte for byte with a copy of the published files, when one is at hand).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft4Validator

from .errors import ListrakHTTPError

__all__ = [
    "SPEC_FILES",
    "SpecOperation",
    "allowed_values",
    "load_spec",
    "spec_operations",
    "validate_body",
]

SPEC_FILES = {
    "email": "email.json",
    "sms": "sms.json",
    "data": "data.json",
    "privacy": "privacy.json",
}
_METHODS = ("get", "post", "put", "delete", "patch")
_ALLOWED = re.compile(r"(?:Allowed values are|Options are)\s+([^.]*)")
_TICKED = re.compile(r"`([^`]+)`")
_ALLOWED_KEY = "x-allowed-values"  # marks a prose enum inside the request schema


def allowed_values(description: str | None) -> tuple[str, ...]:
    """The values a description allows ("Allowed values are `A`, `B` and blank"), or ()."""
    found = _ALLOWED.search(description or "")
    if found is None:
        return ()
    values = tuple(_TICKED.findall(found.group(1)))
    return (*values, "") if re.search(r"\bblank\b", found.group(1)) else values


@dataclass(frozen=True)
class SpecOperation:
    api: str
    operation_id: str
    method: str
    path: str  # as served: basePath + path, e.g. /email/v1/List/{listId}
    body_name: str | None
    body_schema: dict[str, Any] | None
    parameters: tuple[dict[str, Any], ...] = field(default=())


@cache
def load_spec(api: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath("specs", SPEC_FILES[api]).read_text("utf-8")
    spec: dict[str, Any] = json.loads(text)
    return spec


@cache
def spec_operations(api: str) -> dict[str, SpecOperation]:
    spec = load_spec(api)
    found: dict[str, SpecOperation] = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in _METHODS:
                continue
            params = tuple(op.get("parameters", []))
            body = next((p for p in params if p.get("in") == "body"), None)
            found[op["operationId"]] = SpecOperation(
                api=api,
                operation_id=op["operationId"],
                method=method.upper(),
                path=spec["basePath"] + path,
                body_name=body["name"] if body else None,
                body_schema=body["schema"] if body else None,
                parameters=params,
            )
    return found


def _request_schema(schema: Any, definitions: dict[str, Any]) -> Any:
    """The schema a request must meet: read-only properties are not asked of the caller."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            return _request_schema(definitions[name], definitions)
        out = {key: _request_schema(value, definitions) for key, value in schema.items()}
        if schema.get("x-nullable") is True and isinstance(schema.get("type"), str):
            out["type"] = [schema["type"], "null"]  # Swagger 2.0's only way to allow null
        description = schema.get("description")  # a property may be *named* description
        allowed = allowed_values(description) if isinstance(description, str) else ()
        if allowed and schema.get("type") == "string" and "enum" not in schema:
            choices = "|".join(re.escape(value) for value in allowed)
            out["pattern"] = f"(?i)^(?:{choices})$"
            out[_ALLOWED_KEY] = list(allowed)
        props = schema.get("properties", {})
        read_only = {name for name, prop in props.items() if prop.get("readOnly")}
        if "required" in schema:
            required = [name for name in schema["required"] if name not in read_only]
            if required:
                out["required"] = required
            else:
                del out["required"]
        return out
    if isinstance(schema, list):
        return [_request_schema(item, definitions) for item in schema]
    return schema


@cache
def _validator(api: str, operation_id: str) -> Draft4Validator | None:
    op = spec_operations(api)[operation_id]
    if op.body_schema is None:
        return None
    from .recorded import corrected_spec  # recorded traffic corrects a few request schemas

    schema = _request_schema(op.body_schema, corrected_spec(api).get("definitions", {}))
    return Draft4Validator(schema)


def _canonical(value: Any, schema: Any) -> Any:
    """``value`` with prose-enum members spelled as in the spec (``aggressive``: ``Aggressive``)."""
    if not isinstance(schema, dict):
        return value
    if isinstance(value, str) and _ALLOWED_KEY in schema:
        return next((item for item in schema[_ALLOWED_KEY] if item.lower() == value.lower()), value)
    if isinstance(value, dict):
        props = schema.get("properties", {})
        return {key: _canonical(item, props.get(key)) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical(item, schema.get("items")) for item in value]
    return value


def validate_body(api: str, operation_id: str, body: Any) -> Any:
    """The body as the API binds it (prose-enum values in their canonical spelling).

    Raises ``ERROR_INVALID_PARAMETER`` naming the first field the spec rejects.
    """
    validator = _validator(api, operation_id)
    if validator is None:
        return body
    error = next(iter(sorted(validator.iter_errors(body), key=lambda e: list(e.path))), None)
    if error is None:
        return _canonical(body, validator.schema)
    op = spec_operations(api)[operation_id]
    location = ".".join(str(part) for part in error.path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = next((name for name in error.validator_value if name not in error.instance), None)
        location = f"{location}.{missing}" if location else str(missing)
    name = location or op.body_name or "body"
    message = error.message
    if error.validator == "pattern" and _ALLOWED_KEY in error.schema:
        shown = ", ".join(value or "blank" for value in error.schema[_ALLOWED_KEY])
        message = f"Allowed values are {shown}."
    raise ListrakHTTPError.invalid_parameter(name, message)
