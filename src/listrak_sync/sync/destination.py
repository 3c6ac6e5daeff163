"""The contract between the sync engine and a destination (email list, SMS list).

The engine plans (diff), guards, journals, resumes and commits; a destination knows Listrak:
it resolves the remote target, says what Listrak already holds, groups the planned rows into
steps, and applies one step at a time. See docs/explanation/sync-engine.md.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa

from ..audiences.campaigns import AudienceUnit
from ..state import Step

if TYPE_CHECKING:
    from .context import RunContext

__all__ = ["Effect", "StepGroup", "StepResult", "SyncDestination", "effect_rows"]


class Effect(enum.StrEnum):
    """What a step did to one row; decides the row's place in the next snapshot."""

    ADDED = "added"  # applied, and this destination put the contact on the list (owns it)
    APPLIED = "applied"  # applied
    DECLINED = "declined"  # refused for a reason to respect (unsubscribed, opted out): counted
    FAILED = "failed"  # not applied: recorded with its reason, retried next run
    ABSENT = "absent"  # the contact is not on the list (any more): dropped from the snapshot


@dataclass(frozen=True)
class StepGroup:
    """Plan rows a kind of step takes: every row matching ``where`` (SQL over the plan
    columns) that no earlier group took, cut into parts of at most ``max_rows`` rows and about
    ``max_bytes`` bytes of CSV. Each part is one step, ``{kind}-{part:04d}``."""

    kind: str
    where: str
    max_rows: int = 250_000
    max_bytes: int = 180_000_000
    removes: bool = False  # counts toward the removal guard


@dataclass(frozen=True)
class StepResult:
    """A finished step. ``rows`` (columns ``key, effect, result, reason``, optionally
    ``state``) lists per-row outcomes; rows of the step it does not list get ``default`` and
    ``default_result``."""

    summary: dict[str, Any]
    rows: pa.Table | None = None
    default: Effect | None = None
    default_result: str | None = None


ROW_SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("effect", pa.string()),
        ("result", pa.string()),
        ("reason", pa.string()),
        ("state", pa.string()),
    ]
)


def effect_rows(
    keys: list[str], effects: list[str], results: list[str], reasons: list[str | None]
) -> pa.Table:
    """A ``StepResult.rows`` table from parallel lists."""
    return pa.table([keys, effects, results, reasons, [None] * len(keys)], schema=ROW_SCHEMA)


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
