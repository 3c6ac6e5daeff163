"""The contract between the sync engine and a destination (email list, SMS list).

The engine plans (diff), guards, journals, resumes and commits; a destination knows Listrak:
it resolves the remote target, says what Listrak already holds, groups the planned rows into
steps, and applies one step at a time. See docs/explanation/sync-engine.md.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa

from ..audiences.campaigns import AudienceUnit
from ..state import Step
from .steps import ROW_SCHEMA, Effect, StepGroup, StepResult, effect_rows

if TYPE_CHECKING:
    from .context import RunContext

# The step types live in steps.py (plan.py needs them without this contract); they are
# re-exported here for destinations written against this module.
__all__ = ["ROW_SCHEMA", "Effect", "StepGroup", "StepResult", "SyncDestination", "effect_rows"]


class SyncDestination(abc.ABC):
    """One audience unit going to one destination. Built by the registry's factory."""

    kind: ClassVar[str]
    integration: ClassVar[str]  # which ListrakClient credentials: "email" or "sms"

    def __init__(self, name: str, config: Any, unit: AudienceUnit) -> None:
        self.name = name
        self.config = config
        self.unit = unit

    def lock_resources(self) -> list[str]:
        """Extra lock names held for the whole run (the engine always locks the target)."""
        return []

    def warnings(self) -> list[str]:
        """Things the plan output must say loudly."""
        return []

    def normalize(self, ctx: RunContext, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The audience batch with attributes as the exact text sent to Listrak. Columns in:
        customer key, ``treatment_group``, ``key``, ``attr_0``..``attr_n``; same out."""
        return batch

    @abc.abstractmethod
    async def prepare(self, ctx: RunContext) -> dict[str, Any]:
        """Resolve (and outside dry runs create) what the sync writes to; JSON-able, idempotent."""

    async def remote(self, ctx: RunContext) -> AsyncIterator[pa.RecordBatch] | None:
        """What Listrak holds, for a first run or ``--full``: ``key``, ``member`` (bool),
        ``known`` (bool: attributes were read), ``attr_0``..``attr_n`` (text). None: unknown."""
        return None

    @abc.abstractmethod
    def step_groups(self, ctx: RunContext) -> list[StepGroup]:
        """The kinds of steps, in the order rows are assigned to them."""

    @abc.abstractmethod
    async def apply(self, ctx: RunContext, step: Step) -> StepResult:
        """Do one step. Called again after a kill: must not send twice what Listrak has."""
