"""Destination kinds the engine can sync, by the ``type`` of their config.

The kinds are listed here, each with the class that implements it, and that class is imported
only when a sync of its kind runs: no package registers itself by being imported.
``register`` adds a kind from outside the package (a plugin, a test).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from ..audiences.campaigns import AudienceUnit
from .destination import SyncDestination

__all__ = ["KINDS", "Factory", "create", "register", "registered"]

Factory = Callable[[str, Any, AudienceUnit], SyncDestination[Any, Any]]

# Destination `type` -> "module:class" of its SyncDestination.
KINDS: dict[str, str] = {
    "listrak_email": "listrak_sync.sync.email.destination:EmailSync",
    "listrak_sms": "listrak_sync.sync.sms.destination:SmsSync",
}

_ADDED: dict[str, Factory] = {}


def register(kind: str, factory: Factory) -> None:
    """Sync destinations of ``kind`` with ``factory(name, config, unit)``."""
    _ADDED[kind] = factory


def registered() -> list[str]:
    return sorted({*KINDS, *_ADDED})


def create(kind: str, name: str, config: Any, unit: AudienceUnit) -> SyncDestination[Any, Any]:
    """The destination object for one audience unit; KeyError for an unknown kind."""
    factory = _ADDED.get(kind) or _load(KINDS[kind])
    return factory(name, config, unit)


def _load(target: str) -> Factory:
    module, _, attribute = target.partition(":")
    factory: Factory = getattr(importlib.import_module(module), attribute)
    return factory
