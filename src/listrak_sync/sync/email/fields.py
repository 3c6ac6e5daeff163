"""Resolving an email destination in Listrak: the list, the field group, the audience CheckBox
field and the mapped attribute fields, creating what may be created.

Field names are unique per list in Listrak (case-insensitively), so an attribute's field is
found by id (a number) or by name anywhere on the list. Creation is not idempotent on Listrak's
side, so a create whose answer was lost is followed by a lookup before anything is sent again.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence

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
from .target import EmailFields, FieldSpec

__all__ = ["FieldSpec", "listrak_type", "refused_field", "resolve_fields", "resolve_list"]

# maxLength Listrak is given for fields this tool creates.
_MAX_LENGTH = {"Text": 255, "Numeric": 50, "Date": 10, "CheckBox": 3}


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
) -> EmailFields:
    """Find or create the group, the audience field, the owner field (``mode: mirror``) and
    the attribute fields."""
    found = await _ListFields.read(email, list_id, dry_run)
    await found.find_group(group_name)
    audience = await found.checkbox(
        segment_field,
        "the audience field must be a CheckBox (set `segment_field:` to another name)",
    )
    owner: tuple[int | None, bool] = (None, False)
    if owner_field is not None:
        owner = await found.checkbox(
            owner_field, "listrak-sync keeps there who it added (a CheckBox): rename that field"
        )
    specs = await found.attribute_fields(attributes, column_types, create_missing)
    return EmailFields(
        list_id=list_id,
        field_group_id=found.group_id,
        field_group=group_name,
        segment_field=segment_field,
        segment_field_id=audience[0],
        segment_field_created=audience[1],
        owner_field=owner_field,
        owner_field_id=owner[0],
        owner_field_created=owner[1],
        fields=specs,
        created=found.created,
        would_create=[]
        if not dry_run
        else _would_create(
            found.group_id, audience[0], segment_field, group_name, specs, owner_field, owner[0]
        ),
    )


class _ListFields:
    """A list's field groups and profile fields as read once, and what this run created."""

    def __init__(
        self,
        email: EmailApi,
        list_id: int,
        dry_run: bool,
        groups: list[SegmentationFieldGroup],
        fields: list[SegmentationField],
    ) -> None:
        self.email = email
        self.list_id = list_id
        self.dry_run = dry_run
        self.groups = groups
        self.fields = fields
        self.group_id: int | None = None  # the group new fields go into
        self.created: list[str] = []

    @classmethod
    async def read(cls, email: EmailApi, list_id: int, dry_run: bool) -> _ListFields:
        groups = await email.field_groups(list_id)
        fields_by_group = await asyncio.gather(
            *(email.fields(list_id, int(g.segmentation_field_group_id or 0)) for g in groups)
        )
        fields = [f for batch in fields_by_group for f in batch]
        return cls(email, list_id, dry_run, groups, fields)

    def by_name(self, name: str) -> SegmentationField | None:
        lowered = name.strip().lower()
        return next(
            (f for f in self.fields if f.segmentation_field_name.strip().lower() == lowered), None
        )

    async def find_group(self, group_name: str) -> None:
        """The field group named ``group_name``, created (outside dry runs) if missing."""
        email, list_id = self.email, self.list_id
        group = next(
            (
                g
                for g in self.groups
                if g.segmentation_field_group_name.strip().lower() == group_name.lower()
            ),
            None,
        )
        self.group_id = group.segmentation_field_group_id if group else None
        if self.group_id is not None or self.dry_run:
            return

        async def find_group() -> int | None:
            for item in await email.field_groups(list_id):
                if item.segmentation_field_group_name.strip().lower() == group_name.lower():
                    return item.segmentation_field_group_id
            return None

        self.group_id = await _create_once(
            lambda: email.create_field_group(
                list_id, SegmentationFieldGroup(segmentation_field_group_name=group_name)
            ),
            find_group,
        )
        self.created.append(f"field group {group_name!r}")

    async def create_field(self, name: str, data_type: str) -> int | None:
        """A new field in the group (None in a dry run: it would be created)."""
        if self.dry_run or self.group_id is None:
            return None
        email, list_id, gid = self.email, self.list_id, int(self.group_id)

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
        self.created.append(f"{data_type} field {name!r}")
        return new_id

    async def checkbox(self, name: str, wrong_type: str) -> tuple[int | None, bool]:
        """The CheckBox field ``name``, created if missing: its id and whether it is new.
        A field of that name and another type is an error (``wrong_type`` says what to do)."""
        field = self.by_name(name)
        if field is not None and field.data_type != "CheckBox":
            raise SyncError(
                f"profile field {name!r} on list {self.list_id} is a {field.data_type} field; "
                + wrong_type
            )
        if field is not None:
            return field.segmentation_field_id, False
        return await self.create_field(name, "CheckBox"), True

    async def attribute_fields(
        self,
        attributes: list[AttributePlan],
        column_types: dict[str, pa.DataType],
        create_missing: bool,
    ) -> list[FieldSpec]:
        """Each attribute's field, by id or name; a missing one is created when allowed,
        else all missing ones are named in one error."""
        specs: list[FieldSpec] = []
        missing: list[str] = []
        for attribute in attributes:
            target = attribute.name
            found: SegmentationField | None = None
            if target.isdigit():
                found = next(
                    (f for f in self.fields if f.segmentation_field_id == int(target)), None
                )
            if found is None:
                found = self.by_name(target)
            if found is not None:
                specs.append(
                    FieldSpec(
                        column=attribute.column,
                        name=found.segmentation_field_name,
                        field_id=found.segmentation_field_id,
                        data_type=found.data_type,
                        max_length=found.max_length or None,
                    )
                )
                continue
            if target.isdigit() or not create_missing:
                missing.append(target)
                continue
            data_type = listrak_type(column_types.get(attribute.name, pa.string()))
            new_id = await self.create_field(target, data_type)
            specs.append(
                FieldSpec(
                    column=attribute.column,
                    name=target,
                    field_id=new_id,
                    data_type=data_type,
                    created=True,
                    max_length=_MAX_LENGTH[data_type],
                )
            )
        if missing:
            names = ", ".join(repr(m) for m in missing)
            known = sorted(f.segmentation_field_name for f in self.fields)
            raise SyncError(
                f"list {self.list_id} has no profile field {names}: create "
                f"{'it' if len(missing) == 1 else 'them'} in Listrak, fix the mapping, or set "
                "`create_missing_fields: true` on the destination"
                + (f" (fields on the list: {', '.join(known)})" if known else "")
            )
        return specs


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


def refused_field(values: list[str | None], fields: Sequence[FieldSpec]) -> str | None:
    """The first profile field (of ``fields``) whose value in
    ``values`` Listrak refuses (``SkippedInvalidValue`` does not say which): its rules on
    type (Numeric, Date, CheckBox) and ``maxLength``."""
    for value, spec in zip(values, fields, strict=False):
        if value in (None, ""):
            continue
        text = str(value)
        limit = spec.max_length
        if limit is not None and limit > 0 and len(text) > limit:
            return spec.name
        kind = spec.data_type
        if kind == "Numeric" and not _is_number(text):
            return spec.name
        if kind == "Date" and not _DATE.match(text):
            return spec.name
        if kind == "CheckBox" and text.lower() not in ("on", "off"):
            return spec.name
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
