"""Errors of the sync engine."""

from __future__ import annotations

from ..errors import ListrakSyncError

__all__ = ["SyncError"]


class SyncError(ListrakSyncError):
    """A sync that cannot go on (a missing list, fields that do not exist...)."""
