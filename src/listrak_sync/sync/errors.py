"""Errors of the sync engine."""

from __future__ import annotations

__all__ = ["SyncError"]


class SyncError(Exception):
    """A sync that cannot go on (a missing list, fields that do not exist...)."""
