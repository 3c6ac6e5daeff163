"""The plain types a sync's steps are made of: what a step did to a row, how rows are grouped
into steps, and what a finished step reports. Kept apart from the destination contract
(destination.py) so the planner can use them without importing that contract."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

__all__ = ["ROW_SCHEMA", "Effect", "StepGroup", "StepResult", "effect_rows"]


class Effect(enum.StrEnum):
    """What a step did to one row; decides the row's place in the next snapshot."""

    ADDED = "added"  # applied, and this destination put the contact on the list (owns it)
    APPLIED = "applied"  # applied
    # Refused for good (unsubscribed, opted out, banned, a value its field refuses; see
    # refusals.py): counted, reported, not sent again until the row's data changes.
    DECLINED = "declined"
    FAILED = "failed"  # not applied for a passing reason: recorded, retried next run
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
    ``state`` and ``field``) lists per-row outcomes; rows of the step it does not list get
    ``default`` and ``default_result``."""

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
        ("field", pa.string()),  # the field a refusal is about (an attribute's profile field)
    ]
)


def effect_rows(
    keys: list[str],
    effects: list[str],
    results: list[str],
    reasons: list[str | None],
    fields: list[str | None] | None = None,
) -> pa.Table:
    """A ``StepResult.rows`` table from parallel lists."""
    nothing = [None] * len(keys)
    return pa.table(
        [keys, effects, results, reasons, nothing, fields or nothing], schema=ROW_SCHEMA
    )
