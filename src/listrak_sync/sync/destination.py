"""The contract between the sync engine and a destination (email list, SMS list).

The engine plans (diff), guards, journals, resumes and commits; a destination knows Listrak:
it resolves the remote target (a typed :class:`~listrak_sync.sync.target.SyncTarget` the
engine journals and reloads on resume), says what Listrak already holds, groups the planned
rows into steps, and applies one step at a time. See docs/explanation/sync-engine.md.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import pyarrow as pa

from ..audiences.campaigns import AudienceUnit
from ..state import Step
from .steps import ROW_SCHEMA, Effect, StepGroup, StepResult, effect_rows
from .target import SyncTarget, TargetT

if TYPE_CHECKING:
    from .context import RunContext

# The step types live in steps.py (plan.py needs them without this contract); they are
# re-exported here for destinations written against this module.
__all__ = [
    "ROW_SCHEMA",
    "ConfigT",
    "Effect",
    "StepGroup",
    "StepResult",
    "SyncDestination",
    "SyncTarget",
    "TargetT",
    "effect_rows",
]

ConfigT = TypeVar("ConfigT")


class SyncDestination(abc.ABC, Generic[ConfigT, TargetT]):
    """One audience unit going to one destination. Built by the registry's factory.

    ``ConfigT`` is the destination's resolved config (its entry of the project file);
    ``TargetT`` the :class:`SyncTarget` model :meth:`prepare` returns, which every other
    method reads as ``ctx.target``."""

    kind: ClassVar[str]
    integration: ClassVar[str]  # which ListrakClient credentials: "email" or "sms"
    target_model: type[TargetT]  # the class of what prepare() returns (set on the subclass)

    def __init__(self, name: str, config: ConfigT, unit: AudienceUnit) -> None:
        self.name = name
        self.config = config
        self.unit = unit

    def lock_resources(self) -> list[str]:
        """Extra lock names held for the whole run (the engine always locks the target)."""
        return []

    def warnings(self) -> list[str]:
        """Things the plan output must say loudly."""
        return []

    def normalize(self, ctx: RunContext[TargetT], batch: pa.RecordBatch) -> pa.RecordBatch:
        """The audience batch with attributes as the exact text sent to Listrak. Columns in:
        customer key, ``treatment_group``, ``key``, ``attr_0``..``attr_n``; same out."""
        return batch

    @abc.abstractmethod
    async def prepare(self, ctx: RunContext[TargetT]) -> TargetT:
        """Resolve (and outside dry runs create) what the sync writes to; idempotent. May leave
        files in ``ctx.workdir`` for the steps (then :meth:`reopen` writes them again)."""

    def load_target(self, document: Mapping[str, Any]) -> TargetT:
        """The target a run journaled, validated into ``target_model`` (a journal written by
        an earlier version of the destination included)."""
        return self.target_model.from_journal(document)

    async def reopen(self, ctx: RunContext[TargetT]) -> None:
        """A killed run is resumed: ``ctx.target`` is the journaled target. Redo here what
        :meth:`prepare` left in ``ctx.workdir`` that the remaining steps read (the folder may
        be new: another working directory can finish the run)."""

    async def remote(self, ctx: RunContext[TargetT]) -> AsyncIterator[pa.RecordBatch] | None:
        """What Listrak holds, for a first run or ``--full``: ``key``, ``member`` (bool),
        ``known`` (bool: attributes were read), ``attr_0``..``attr_n`` (text). None: unknown."""
        return None

    @abc.abstractmethod
    def step_groups(self, ctx: RunContext[TargetT]) -> list[StepGroup]:
        """The kinds of steps, in the order rows are assigned to them."""

    @abc.abstractmethod
    async def apply(self, ctx: RunContext[TargetT], step: Step) -> StepResult:
        """Do one step. Called again after a kill: must not send twice what Listrak has."""
