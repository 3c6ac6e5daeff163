"""Warehouse columns of pulled data: readable names for profile fields, and page -> Arrow.

Listrak answers pages of JSON objects; each page becomes one Arrow record batch with a fixed
schema, built column by column (one list comprehension per column, no model per contact), so
a list of millions streams through in bounded memory. Timestamps are Listrak's UTC wall time
(``2024-05-01T13:45:00``) and land as ``TIMESTAMP`` (UTC, no zone).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "ColumnSpec",
    "FieldColumn",
    "field_reader",
    "page_batch",
    "resolve_field_columns",
    "snake_case",
    "with_fields",
]

TIMESTAMP = pa.timestamp("s")


def snake_case(name: str) -> str:
    """``FirstName`` -> ``first_name``, ``Loyalty Tier #2`` -> ``loyalty_tier_2``."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name.strip())
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    text = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()
    if not text:
        return "field"
    return text if not text[0].isdigit() else f"f_{text}"


@dataclass(frozen=True)
class FieldColumn:
    """A profile field pulled into a column."""

    field_id: int
    column: str
    listrak_name: str | None


def resolve_field_columns(
    field_ids: Sequence[int],
    names: Mapping[int, str],
    overrides: Mapping[int, str],
    reserved: Iterable[str],
) -> list[FieldColumn]:
    """One column per field id: the override, else the field's name in snake_case, else
    ``field_{id}``. A name that collides with a fixed column or an earlier field gets the
    field id appended, so every column name is unique and stable while names don't change."""
    taken = {name.lower() for name in reserved}
    out: list[FieldColumn] = []
    for field_id in field_ids:
        listrak_name = names.get(field_id)
        if field_id in overrides:
            column = overrides[field_id]
            if column.lower() in taken:
                raise ValueError(f"field_names: column {column!r} (field {field_id}) is taken")
        else:
            column = snake_case(listrak_name) if listrak_name else f"field_{field_id}"
            if column.lower() in taken:
                column = f"{column}_{field_id}"
        taken.add(column.lower())
        out.append(FieldColumn(field_id, column, listrak_name))
    return out


@dataclass(frozen=True)
class ColumnSpec:
    """A column of a pulled table: its name, Arrow type and how to read it from a JSON item."""

    name: str
    type: pa.DataType
    read: Callable[[dict[str, Any]], Any]


def member(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda item: item.get(key)


def with_fields(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Index each contact's ``segmentationFieldValues`` by field id (``_fields``), in place,
    so each profile field column reads its value with one lookup."""
    for item in items:
        item["_fields"] = {
            int(v["segmentationFieldId"]): v.get("value")
            for v in item.get("segmentationFieldValues") or []
        }
    return items


def field_reader(field_id: int) -> Callable[[dict[str, Any]], Any]:
    """The value reader of a profile field column (items prepared by :func:`with_fields`)."""
    return lambda item: item["_fields"].get(field_id)


def _array(values: list[Any], type_: pa.DataType) -> pa.Array:
    if type_ == TIMESTAMP:
        text = pa.array(values, pa.string())
        # Listrak sends seconds without zone; some peers add a fraction or a Z.
        trimmed = pc.utf8_slice_codeunits(text, 0, 19)
        return pc.strptime(trimmed, format="%Y-%m-%dT%H:%M:%S", unit="s", error_is_null=True)
    return pa.array(values, type_)


def page_batch(
    items: Sequence[dict[str, Any]],
    columns: Sequence[ColumnSpec],
    constants: Mapping[str, pa.Scalar] | None = None,
) -> pa.RecordBatch:
    """One record batch from one page of items (``constants`` repeated on every row)."""
    arrays: list[pa.Array] = []
    names: list[str] = []
    for spec in columns:
        names.append(spec.name)
        arrays.append(_array([spec.read(item) for item in items], spec.type))
    for name, scalar in (constants or {}).items():
        names.append(name)
        arrays.append(pa.array([scalar.as_py()] * len(items), scalar.type))
    return pa.RecordBatch.from_arrays(arrays, names=names)


def schema_of(columns: Sequence[ColumnSpec], constants: Mapping[str, pa.Scalar]) -> pa.Schema:
    return pa.schema(
        [pa.field(c.name, c.type) for c in columns]
        + [pa.field(name, scalar.type) for name, scalar in constants.items()]
    )
