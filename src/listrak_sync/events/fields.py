"""The profile fields of one list, as delivery needs them: ids, data types, lookup by name.

Loaded once (groups, then each group's fields) and reloaded when a field is asked for that is not
known, at most every ``refresh_seconds``, since fields can be created in Listrak at any time.
Audience mappings name their field; a missing one is created as a CheckBox (its group too).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from ..listrak import (
    EmailApi,
    ListrakApiError,
    SegmentationField,
    SegmentationFieldGroup,
)
from .mappings import FieldName, FieldRef

__all__ = ["FieldCatalog", "FieldProblem", "checkbox_value"]

_ON = frozenset({"on", "true", "yes", "1", "y", "t"})
_OFF = frozenset({"off", "false", "no", "0", "n", "f"})


class FieldProblem(Exception):
    """A field reference that cannot be delivered (permanent: the update is dead-lettered)."""


def checkbox_value(value: str) -> str:
    """``on``/``off`` for the usual spellings of a boolean; anything else unchanged (Listrak
    then refuses it and the update is dead-lettered with that reason)."""
    lowered = value.strip().lower()
    if lowered in _ON:
        return "on"
    if lowered in _OFF:
        return "off"
    return value


@dataclass
class _Snapshot:
    loaded_at: float = float("-inf")
    types: dict[int, str] = field(default_factory=dict)  # field id -> data type
    groups: dict[str, int] = field(default_factory=dict)  # lower-cased group name -> id
    by_name: dict[tuple[str, str], int] = field(default_factory=dict)  # (group, field) lowered


class FieldCatalog:
    """Profile fields of ``list_id`` reached through ``email``."""

    def __init__(self, email: EmailApi, list_id: int, *, refresh_seconds: float = 60.0) -> None:
        self.email = email
        self.list_id = list_id
        self.refresh_seconds = refresh_seconds
        self._snapshot = _Snapshot()
        self._stale = False
        self._lock = asyncio.Lock()

    async def _load(self) -> None:
        snapshot = _Snapshot(loaded_at=time.monotonic())
        for group in await self.email.field_groups(self.list_id):
            group_id = group.segmentation_field_group_id
            if group_id is None:
                continue
            group_key = group.segmentation_field_group_name.lower()
            snapshot.groups[group_key] = group_id
            for item in await self.email.fields(self.list_id, group_id):
                if item.segmentation_field_id is None:
                    continue
                snapshot.types[item.segmentation_field_id] = item.data_type
                key = (group_key, item.segmentation_field_name.lower())
                snapshot.by_name[key] = item.segmentation_field_id
        self._snapshot = snapshot

    async def _refresh(self, *, missing: bool) -> None:
        async with self._lock:
            old = time.monotonic() - self._snapshot.loaded_at >= self.refresh_seconds
            if self._stale or (missing and old):
                self._stale = False
                await self._load()

    def invalidate(self) -> None:
        """Reload at the next lookup: Listrak refused a field we thought existed, or a create's
        answer was lost."""
        self._stale = True

    def known(self, ref: FieldRef) -> tuple[int, str] | None:
        """Id and data type of ``ref`` from what is loaded, when nothing needs (re)loading;
        None otherwise (then ask :meth:`resolve` or :meth:`data_type`). Delivery looks up every
        field of every update: this spares a coroutine per lookup."""
        if self._stale:
            return None
        snapshot = self._snapshot
        if isinstance(ref, FieldName):
            field_id = snapshot.by_name.get((ref.group.lower(), ref.name.lower()))
            if field_id is None:
                return None
        else:
            field_id = ref
        data_type = snapshot.types.get(field_id)
        return None if data_type is None else (field_id, data_type)

    async def data_type(self, field_id: int) -> str:
        """The field's data type; FieldProblem when the list has no such field."""
        missing = field_id not in self._snapshot.types
        if missing or self._stale:
            await self._refresh(missing=missing)
        found = self._snapshot.types.get(field_id)
        if found is None:
            raise FieldProblem(f"profile field {field_id} does not exist on list {self.list_id}")
        return found

    async def resolve(self, ref: FieldName) -> tuple[int, str]:
        """Id and data type of the field named ``ref.name`` in group ``ref.group``."""
        key = (ref.group.lower(), ref.name.lower())
        missing = key not in self._snapshot.by_name
        if missing or self._stale:
            await self._refresh(missing=missing)
        if key not in self._snapshot.by_name:
            if not ref.create:
                raise FieldProblem(
                    f"no profile field {ref.name!r} in group {ref.group!r} on list {self.list_id}"
                )
            async with self._lock:
                if key not in self._snapshot.by_name:
                    await self._create(ref)
        field_id = self._snapshot.by_name[key]
        return field_id, self._snapshot.types[field_id]

    async def _create(self, ref: FieldName) -> None:
        """Create the CheckBox field (and group); caller holds the lock."""
        snap = self._snapshot
        try:
            group_id = snap.groups.get(ref.group.lower())
            if group_id is None:
                group_id = await self.email.create_field_group(
                    self.list_id, SegmentationFieldGroup(segmentation_field_group_name=ref.group)
                )
                snap.groups[ref.group.lower()] = group_id
            field_id = await self.email.create_field(
                self.list_id,
                group_id,
                SegmentationField(
                    segmentation_field_name=ref.name, data_type="CheckBox", max_length=3
                ),
            )
        except ListrakApiError as exc:
            raise FieldProblem(
                f"cannot create CheckBox field {ref.name!r} in group {ref.group!r} on list "
                f"{self.list_id}: {exc.code}: {exc.message}"
            ) from None
        except Exception:
            self.invalidate()  # it may exist now although the answer was lost
            raise
        snap.types[field_id] = "CheckBox"
        snap.by_name[(ref.group.lower(), ref.name.lower())] = field_id
