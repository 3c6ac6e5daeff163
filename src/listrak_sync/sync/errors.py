"""Errors of the sync engine."""

from __future__ import annotations

__all__ = ["StepStopped", "SyncError"]


class SyncError(Exception):
    """A sync that cannot go on (a missing list, fields that do not exist...)."""


class StepStopped(SyncError):
    """A step stopped part-way. ``finished`` holds the outcomes (objects with an ``effect``) of
    the calls Listrak answered before it stopped, so the failed run counts what was accepted."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.finished: list[object] = []
