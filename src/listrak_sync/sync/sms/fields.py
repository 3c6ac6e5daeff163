"""Attributes → SMS profile fields: matching by name, and checking values against field types.

Listrak's Contact Update Import only knows two column kinds, ``Phone`` and ``SegmentationField``,
so every attribute an SMS list receives — system ones (email, first/last name, birthday, postal
code) as much as custom ones — travels as a profile field of the sender code. An attribute is
matched to a field by id (``field: 7003``) or by name, case-insensitively, with spaces,
underscores and dashes counting as one separator (``loyalty_tier`` is ``Loyalty Tier``).

Values are checked in Arrow, a column at a time, with the same rules Listrak applies (Number,
Checkbox ``true/false/on/off/yes/no/1/0``, Date ISO or ``MM/DD/YYYY``, and the field's
``maxLength``), and normalised to the text the import file carries. A row whose value a field
would refuse is reported and skipped, never sent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from ...audiences.errors import Issue
from ...listrak import PhoneAttribute

__all__ = [
    "MAX_ATTRIBUTES",
    "SYSTEM_NAMES",
    "CheckedValues",
    "FieldMatch",
    "check_values",
    "match_fields",
    "name_key",
]

# The seed connector's limit, and Listrak's for one contact update import.
MAX_ATTRIBUTES = 50
# Names of the system fields (after ``name_key``); everything else is a custom attribute.
SYSTEM_NAMES = frozenset(
    {
        "email",
        "email address",
        "first name",
        "last name",
        "birthday",
        "postal code",
        "zip",
        "zip code",
    }
)
DATA_TYPES = ("Text", "Number", "Checkbox", "Date")

_SEPARATORS = re.compile(r"[\s_\-]+")
_NUMBER = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$"
_TRUE = ("true", "on", "yes", "1")
_FALSE = ("false", "off", "no", "0")
_ISO_DATE = r"^\s*(\d{4})-(\d{2})-(\d{2})([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?\s*$"
_US_DATE = r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$"


def name_key(name: str) -> str:
    """How names are compared: case-folded, runs of space/underscore/dash as one space."""
    return _SEPARATORS.sub(" ", name.strip()).casefold()


@dataclass(frozen=True)
class FieldMatch:
    """An attribute (audience column ``name``) and the profile field it is written to."""

    name: str
    field_id: int
    field_name: str
    data_type: str
    max_length: int | None

    @property
    def system(self) -> bool:
        return name_key(self.field_name) in SYSTEM_NAMES


def match_fields(
    names: Sequence[str], fields: Sequence[PhoneAttribute], *, match_custom: bool = True
) -> tuple[list[FieldMatch], list[Issue]]:
    """Match attribute names to the sender code's profile fields; every failure is an issue
    naming the attribute."""
    issues: list[Issue] = []
    by_id = {f.segmentation_field_id: f for f in fields}
    by_key: dict[str, list[PhoneAttribute]] = {}
    for field in fields:
        if field.segmentation_field_name:
            by_key.setdefault(name_key(field.segmentation_field_name), []).append(field)
    active = sorted(
        f.segmentation_field_name or str(f.segmentation_field_id)
        for f in fields
        if (f.status_flag or "Active") == "Active"
    )
    hint = "SMS profile fields of the sender code: " + (", ".join(active) or "none")
    if len(names) > MAX_ATTRIBUTES:
        issues.append(
            Issue(
                f"{len(names)} attributes; an SMS list takes at most {MAX_ATTRIBUTES}",
                "remove some with the campaign's remove_attributes",
                ("attributes",),
            )
        )
    matches: list[FieldMatch] = []
    for name in names:
        found: list[PhoneAttribute]
        if name.strip().isdigit():
            field_by_id = by_id.get(int(name))
            found = [field_by_id] if field_by_id is not None else []
        else:
            found = by_key.get(name_key(name), [])
        if not found:
            issues.append(
                Issue(
                    f"attribute {name!r} matches no SMS profile field", hint, ("attributes", name)
                )
            )
            continue
        if len(found) > 1:
            ids = ", ".join(str(f.segmentation_field_id) for f in found)
            issues.append(
                Issue(
                    f"attribute {name!r} matches several SMS profile fields ({ids})",
                    "name the field by id (`field: <id>`)",
                    ("attributes", name),
                )
            )
            continue
        field = found[0]
        status = field.status_flag or "Active"
        if status != "Active":
            issues.append(
                Issue(
                    f"attribute {name!r}: SMS profile field {field.segmentation_field_name!r} "
                    f"is {status.lower()}",
                    hint,
                    ("attributes", name),
                )
            )
            continue
        data_type = field.data_type or "Text"
        if data_type not in DATA_TYPES:
            issues.append(
                Issue(
                    f"attribute {name!r}: SMS profile field {field.segmentation_field_name!r} has "
                    f"data type {data_type!r}, which listrak-sync does not know",
                    None,
                    ("attributes", name),
                )
            )
            continue
        match = FieldMatch(
            name=name,
            field_id=field.segmentation_field_id,
            field_name=field.segmentation_field_name or str(field.segmentation_field_id),
            data_type=data_type,
            max_length=field.max_length or None,
        )
        if not match_custom and not match.system:
            issues.append(
                Issue(
                    f"attribute {name!r} is a custom attribute and match_custom_fields is false",
                    "set match_custom_fields: true on the destination, or remove the attribute",
                    ("attributes", name),
                )
            )
            continue
        matches.append(match)
    return matches, issues


@dataclass(frozen=True)
class CheckedValues:
    """One attribute column as import text (null = leave unchanged) and, per row, the reason
    a value is refused (null = fine)."""

    text: pa.Array
    problem: pa.Array


def check_values(column: pa.Array | pa.ChunkedArray, match: FieldMatch) -> CheckedValues:
    """Normalise ``column`` for ``match``'s field and find the values it would refuse."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    kind = column.type
    if pa.types.is_null(kind):
        empty = pa.nulls(len(column), pa.string())
        return CheckedValues(empty, empty)
    text, valid = _normalise(column, kind, match.data_type)
    reason = f"not a {match.data_type} value for profile field {match.field_name!r}"
    problem = pc.if_else(pc.fill_null(valid, True), pa.scalar(None, pa.string()), reason)
    if match.max_length is not None:
        too_long = pc.fill_null(pc.greater(pc.utf8_length(text), match.max_length), False)
        problem = pc.if_else(
            pc.and_(too_long, pc.is_null(problem)),
            f"longer than the {match.max_length} characters profile field "
            f"{match.field_name!r} holds",
            problem,
        )
    return CheckedValues(text, problem)


def _present(column: pa.Array) -> pa.Array:
    """True where a value is present, null where it is null (null values are not checked)."""
    return pc.if_else(pc.is_null(column), pa.scalar(None, pa.bool_()), True)


def _normalise(column: pa.Array, kind: pa.DataType, data_type: str) -> tuple[pa.Array, pa.Array]:
    """(text, valid) for one column; ``valid`` is null where the value is null."""
    if data_type == "Number":
        if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
            return pc.cast(column, pa.string()), _present(column)
        text = pc.utf8_trim_whitespace(pc.cast(column, pa.string()))
        return text, pc.match_substring_regex(text, _NUMBER)
    if data_type == "Checkbox":
        if pa.types.is_boolean(kind):
            return pc.if_else(column, "true", "false"), _present(column)
        lowered = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(column, pa.string())))
        valid = pc.is_in(lowered, value_set=pa.array(_TRUE + _FALSE))
        valid = pc.if_else(pc.is_null(lowered), pa.scalar(None, pa.bool_()), valid)
        # A refused value keeps its own text, so the check made again at apply time agrees.
        text = pc.if_else(
            pc.is_in(lowered, value_set=pa.array(_TRUE)),
            "true",
            pc.if_else(pc.is_in(lowered, value_set=pa.array(_FALSE)), "false", lowered),
        )
        return text, valid
    if data_type == "Date":
        if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
            return pc.strftime(column, format="%Y-%m-%d"), _present(column)
        text = pc.utf8_trim_whitespace(pc.cast(column, pa.string()))
        iso = pc.replace_substring_regex(text, _ISO_DATE, r"\1-\2-\3")
        us = pc.replace_substring_regex(text, _US_DATE, r"\3-\1-\2")
        chosen = pc.if_else(pc.match_substring_regex(text, _ISO_DATE), iso, us)
        # Pad M/D to two digits, then let Arrow's strptime reject impossible dates (02-30).
        padded = pc.replace_substring_regex(chosen, r"^(\d{4})-(\d)-", r"\1-0\2-")
        padded = pc.replace_substring_regex(padded, r"^(\d{4})-(\d{2})-(\d)$", r"\1-\2-0\3")
        shaped = pc.match_substring_regex(padded, r"^\d{4}-\d{2}-\d{2}$")
        parsed = pc.strptime(
            pc.if_else(shaped, padded, pa.scalar(None, pa.string())),
            format="%Y-%m-%d",
            unit="s",
            error_is_null=True,
        )
        # A date that does not exist (02-30) parses to another day: compare the round trip.
        same = pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), padded)
        valid = pc.if_else(pc.is_null(text), pa.scalar(None, pa.bool_()), pc.fill_null(same, False))
        return pc.if_else(valid, padded, text), valid
    # Text: anything, as text (booleans spelled as Listrak's checkbox values).
    if pa.types.is_boolean(kind):
        return pc.if_else(column, "true", "false"), _present(column)
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        return pc.strftime(column, format="%Y-%m-%d"), _present(column)
    return pc.cast(column, pa.string()), _present(column)
