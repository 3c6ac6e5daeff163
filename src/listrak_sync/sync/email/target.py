"""What an email destination writes to: the list, its field group, the audience CheckBox
field, the owner field (``mode: mirror``) and the profile field of each mapped attribute.

The engine journals it (``EmailTarget.journal()``) and a resumed run reloads it; its keys are
those the untyped dict of earlier versions had, so a run killed before an upgrade resumes
after it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..errors import SyncError
from ..target import SyncTarget

__all__ = ["EmailFields", "EmailTarget", "FieldSpec", "known_id"]


class FieldSpec(BaseModel):
    """A mapped attribute and the profile field it lands in."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    column: str
    name: str
    field_id: int | None  # None only in a dry run, for a field that would be created
    data_type: str
    created: bool = False
    max_length: int | None = None


class EmailFields(SyncTarget):
    """The list's profile fields a sync writes, found or created (``resolve_fields``)."""

    list_id: int
    field_group_id: int | None  # None only in a dry run, for a group that would be created
    field_group: str
    segment_field: str
    segment_field_id: int | None  # None: a dry run, and the field would be created
    segment_field_created: bool = False  # new in this run: nobody on the list has it on
    owner_field: str | None = None  # mode mirror: who this destination added
    owner_field_id: int | None = None
    owner_field_created: bool = False
    fields: list[FieldSpec] = Field(default_factory=list)
    created: list[str] = Field(default_factory=list)  # what preparing created, as shown to the user
    would_create: list[str] = Field(default_factory=list)  # a dry run: what a real run would create


class EmailTarget(EmailFields):
    """An email destination's prepared target."""

    list_name: str
    mode: str


def known_id(value: int | None, what: str) -> int:
    """An id only a dry run leaves unknown (for something it would create)."""
    if value is None:
        raise SyncError(f"{what} has no id in Listrak yet; it is created by a sync, not a plan")
    return value
