"""Resolving an email destination in Listrak: the list, the field group, the audience CheckBox
field and the mapped attribute fields, creating what may be created.

Field names are unique per list in Listrak (case-insensitively), so an attribute's field is
found by id (a number) or by name anywhere on the list. Creation is not idempotent on Listrak's
side, so a create whose answer was lost is followed by a lookup before anything is sent again.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ...audiences.campaigns import AttributePlan
from ...config.destinations import EmailList
from ...listrak import (
    EmailApi,
    ListrakError,
    NotFound,
    SegmentationField,
    SegmentationFieldGroup,
)
from ...project.loader import did_you_mean
from ..errors import SyncError

__all__ = ["FieldSpec", "listrak_type", "refused_field", "resolve_fields", "resolve_list"]

# maxLength Listrak is given for fields this tool creates.
_MAX_LENGTH = {"Text": 255, "Numeric": 50, "Date": 10, "CheckBox": 3}


@dataclass(frozen=True)
class FieldSpec:
    """A mapped attribute and the profile field it lands in."""

    column: str
    name: str
    field_id: int | None  # None only in a dry run, for a field that would be created
    data_type: str
    created: bool = False
    max_length: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "name": self.name,
            "field_id": self.field_id,
            "data_type": self.data_type,
            "created": self.created,
            "max_length": self.max_length,
        }


def listrak_type(arrow_type: pa.DataType) -> str:
    """The profile field type a warehouse column's values fit."""
    if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type):
        return "Numeric"
    if pa.types.is_decimal(arrow_type):
        return "Numeric"
    if pa.types.is_date(arrow_type) or pa.types.is_timestamp(arrow_type):
        return "Date"
    if pa.types.is_boolean(arrow_type):
        return "CheckBox"
    return "Text"


async def resolve_list(email: EmailApi, ref: EmailList) -> tuple[int, str]:
    """The list's id and name; SyncError naming the choices when it does not exist."""
    if ref.id is not None:
        try:
            found = await email.get_list(ref.id)
        except NotFound:
            raise SyncError(f"email list {ref.id} does not exist in Listrak") from None
        return ref.id, found.list_name
    lists = await email.lists()
    wanted = str(ref.name).strip().lower()
    matches = [item for item in lists if item.list_name.strip().lower() == wanted]
    if not matches:
        hint = did_you_mean(str(ref.name), [item.list_name for item in lists])
        raise SyncError(
            f"no email list named {ref.name!r} in Listrak" + (f" ({hint})" if hint else "")
        )
    if len(matches) > 1:
        ids = ", ".join(str(item.list_id) for item in matches)
        raise SyncError(
            f"several email lists are named {ref.name!r} (ids {ids}); give `list: {{id: …}}`"
        )
    assert matches[0].list_id is not None
    return matches[0].list_id, matches[0].list_name


async def _create_once(
    create: Callable[[], Awaitable[int]], find: Callable[[], Awaitable[int | None]]
) -> int:
    """Create, and if the answer was lost, look for what may have been created."""
    try:
        return await create()
    except ListrakError as exc:
        if not getattr(exc, "maybe_applied", False):
            raise
        found = await find()
        if found is None:
            return await create()
        return found


async def resolve_fields(
    email: EmailApi,
    list_id: int,
    *,
    group_name: str,
    segment_field: str,
    attributes: list[AttributePlan],
    column_types: dict[str, pa.DataType],
    create_missing: bool,
    dry_run: bool,
    owner_field: str | None = None,
) -> dict[str, Any]:
    """Find or create the group, the audience field, the owner field (``mode: mirror``) and
    the attribute fields; a JSON result."""
    groups = await email.field_groups(list_id)
    fields_by_group = await asyncio.gather(
        *(email.fields(list_id, int(g.segmentation_field_group_id or 0)) for g in groups)
    )
    fields: list[SegmentationField] = [f for batch in fields_by_group for f in batch]
    created: list[str] = []

    group = next(
        (
            g
            for g in groups
            if g.segmentation_field_group_name.strip().lower() == group_name.lower()
        ),
        None,
    )
    group_id = group.segmentation_field_group_id if group else None
    if group_id is None and not dry_run:

        async def find_group() -> int | None:
            for item in await email.field_groups(list_id):
                if item.segmentation_field_group_name.strip().lower() == group_name.lower():
                    return item.segmentation_field_group_id
            return None

        group_id = await _create_once(
            lambda: email.create_field_group(
                list_id, SegmentationFieldGroup(segmentation_field_group_name=group_name)
            ),
            find_group,
        )
        created.append(f"field group {group_name!r}")

    def by_name(name: str) -> SegmentationField | None:
        lowered = name.strip().lower()
        return next(
            (f for f in fields if f.segmentation_field_name.strip().lower() == lowered), None
        )

    async def create_field(name: str, data_type: str) -> int | None:
        if dry_run or group_id is None:
            return None
        gid = int(group_id)

        async def find() -> int | None:
            for item in await email.fields(list_id, gid):
                if item.segmentation_field_name.strip().lower() == name.lower():
                    return item.segmentation_field_id
            return None

        new_id = await _create_once(
            lambda: email.create_field(
                list_id,
                gid,
                SegmentationField(
                    segmentation_field_name=name,
                    data_type=data_type,
                    max_length=_MAX_LENGTH[data_type],
                ),
            ),
            find,
        )
        created.append(f"{data_type} field {name!r}")
        return new_id

    audience = by_name(segment_field)
    if audience is not None and audience.data_type != "CheckBox":
        raise SyncError(
            f"profile field {segment_field!r} on list {list_id} is a {audience.data_type} field; "
            "the audience field must be a CheckBox (set `segment_field:` to another name)"
        )
    audience_id = (
        audience.segmentation_field_id
        if audience is not None
        else await create_field(segment_field, "CheckBox")
    )

    owner_id: int | None = None
    owner: SegmentationField | None = None
    if owner_field is not None:
        owner = by_name(owner_field)
        if owner is not None and owner.data_type != "CheckBox":
            raise SyncError(
                f"profile field {owner_field!r} on list {list_id} is a {owner.data_type} field; "
                "listrak-sync keeps there who it added (a CheckBox): rename that field"
            )
        owner_id = (
            owner.segmentation_field_id
            if owner is not None
            else await create_field(owner_field, "CheckBox")
        )

    specs: list[FieldSpec] = []
    missing: list[str] = []
    for attribute in attributes:
        target = attribute.name
        found: SegmentationField | None = None
        if target.isdigit():
            found = next((f for f in fields if f.segmentation_field_id == int(target)), None)
        if found is None:
            found = by_name(target)
        if found is not None:
            specs.append(
                FieldSpec(
                    attribute.column,
                    found.segmentation_field_name,
                    found.segmentation_field_id,
                    found.data_type,
                    max_length=found.max_length or None,
                )
            )
            continue
        if target.isdigit() or not create_missing:
            missing.append(target)
            continue
        data_type = listrak_type(column_types.get(attribute.name, pa.string()))
        new_id = await create_field(target, data_type)
        specs.append(
            FieldSpec(
                attribute.column,
                target,
                new_id,
                data_type,
                created=True,
                max_length=_MAX_LENGTH[data_type],
            )
        )
    if missing:
        names = ", ".join(repr(m) for m in missing)
        known = sorted(f.segmentation_field_name for f in fields)
        raise SyncError(
            f"list {list_id} has no profile field {names}: create "
            f"{'it' if len(missing) == 1 else 'them'} in Listrak, fix the mapping, or set "
            "`create_missing_fields: true` on the destination"
            + (f" (fields on the list: {', '.join(known)})" if known else "")
        )
    return {
        "list_id": list_id,
        "field_group_id": group_id,
        "field_group": group_name,
        "segment_field": segment_field,
        "segment_field_id": audience_id,
        "segment_field_created": audience is None,
        "owner_field": owner_field,
        "owner_field_id": owner_id,
        "owner_field_created": owner_field is not None and owner is None,
        "fields": [spec.as_dict() for spec in specs],
        "created": created,
        "would_create": []
        if not dry_run
        else _would_create(
            group_id, audience_id, segment_field, group_name, specs, owner_field, owner_id
        ),
    }


def _would_create(
    group_id: int | None,
    audience_id: int | None,
    segment_field: str,
    group_name: str,
    specs: list[FieldSpec],
    owner_field: str | None = None,
    owner_id: int | None = None,
) -> list[str]:
    out = [] if group_id is not None else [f"field group {group_name!r}"]
    if audience_id is None:
        out.append(f"CheckBox field {segment_field!r}")
    if owner_field is not None and owner_id is None:
        out.append(f"CheckBox field {owner_field!r}")
    out += [f"{s.data_type} field {s.name!r}" for s in specs if s.created]
    return out


_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4})$")


def refused_field(values: list[str | None], fields: list[dict[str, Any]]) -> str | None:
    """The first profile field (of ``fields``, ``FieldSpec.as_dict`` form) whose value in
    ``values`` Listrak refuses (``SkippedInvalidValue`` does not say which): its rules on
    type (Numeric, Date, CheckBox) and ``maxLength``."""
    for value, spec in zip(values, fields, strict=False):
        if value in (None, ""):
            continue
        text = str(value)
        limit = spec.get("max_length")
        if isinstance(limit, int) and limit > 0 and len(text) > limit:
            return str(spec["name"])
        kind = spec.get("data_type")
        if kind == "Numeric" and not _is_number(text):
            return str(spec["name"])
        if kind == "Date" and not _DATE.match(text):
            return str(spec["name"])
        if kind == "CheckBox" and text.lower() not in ("on", "off"):
            return str(spec["name"])
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
