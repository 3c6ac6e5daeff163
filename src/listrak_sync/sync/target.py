"""What a destination's ``prepare()`` resolves: the base of every typed sync target.

A target holds the Listrak ids a run writes to (a list, its profile fields, a sender code) and
what preparing them did (fields created). The engine journals it as JSON in the run's details
(``listrak``) once the plan is written, and a resumed run reloads it from there by validating
it into the same model, so the remaining steps write to exactly what the plan was made
against. See docs/explanation/sync-engine.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from pydantic import BaseModel, ConfigDict

__all__ = ["SyncTarget", "TargetT"]


class SyncTarget(BaseModel):
    """Base of a destination's target. Keys unknown to the model are ignored when a journal
    is read back (a journal written by another version of the destination still loads);
    a field added later needs a default for the same reason."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    def journal(self) -> dict[str, Any]:
        """The JSON document journaled in the run's details and shown in reports."""
        return self.model_dump(mode="json")

    @classmethod
    def from_journal(cls, document: Mapping[str, Any]) -> Self:
        """The target a run journaled (``pydantic.ValidationError`` if it does not fit)."""
        return cls.model_validate(dict(document))


TargetT = TypeVar("TargetT", bound=SyncTarget)
