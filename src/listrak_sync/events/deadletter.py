"""Dead-letter retry: send dead letters back to the queue, with today's mappings where needed.

An update that failed at delivery goes back as it was, minus any field a newer value exists for
(see :meth:`Queue.requeue`). An event refused at intake (no email, a bad value) is mapped again
by the mapping that refused it, as the config says now, so fixing a mapping and retrying works.
A running server picks requeued updates up within its poll interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..config.events import EventDestination
from .mappings import Rejection, Update, apply_mappings
from .queue import DeadLetter, Queue

__all__ = ["RetryReport", "retry_dead_letters"]


@dataclass(frozen=True)
class RetryReport:
    selected: int
    requeued: int  # updates back in the queue
    superseded: int  # dead letters whose every field has a newer value: removed
    still_dead: int  # intake refusals that today's mapping refuses again


def _remap(
    destination: EventDestination, item: DeadLetter
) -> tuple[list[Update], list[tuple[Rejection, dict[str, Any]]]]:
    assert item.event is not None
    mapping = destination.mappings.get(item.mapping)

    def again(reason: str) -> list[tuple[Rejection, dict[str, Any]]]:
        rejection = Rejection(
            item.mapping, item.credential, item.list_id, item.email, reason, item.message_id
        )
        return [(rejection, item.event or {})]

    if mapping is None:
        return [], again(f"mapping {item.mapping!r} no longer exists")
    only = destination.model_copy(update={"mappings": {item.mapping: mapping}})
    results = apply_mappings(only, item.event)
    if not results:
        return [], again(f"the event no longer meets the trigger of mapping {item.mapping!r}")
    updates = [r for r in results if isinstance(r, Update)]
    rejections = [(r, item.event) for r in results if isinstance(r, Rejection)]
    return updates, rejections


def retry_dead_letters(
    queue: Queue,
    destination: EventDestination,
    *,
    ids: Sequence[int] = (),
    mapping: str | None = None,
) -> RetryReport:
    """Requeue the dead letters selected by ``ids`` and/or ``mapping`` (all when neither)."""
    dead = queue.dead_letters(ids=ids, mapping=mapping)
    replacements = {item.id: _remap(destination, item) for item in dead if item.fields is None}
    requeued, superseded = queue.requeue(dead, replacements)
    still = sum(len(rejections) for _, rejections in replacements.values())
    return RetryReport(len(dead), requeued, superseded, still)
