"""Destination kinds the engine can sync, by the ``type`` of their config."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from ..audiences.campaigns import AudienceUnit
from .destination import SyncDestination

__all__ = ["Factory", "create", "register", "registered"]

Factory = Callable[[str, Any, AudienceUnit], SyncDestination]

_FACTORIES: dict[str, Factory] = {}
# Packages that register a destination kind when imported.
_PLUGINS = ("listrak_sync.sync.email", "listrak_sync.sync.sms")


def register(kind: str, factory: Factory) -> None:
    _FACTORIES[kind] = factory


def _load() -> None:
    for name in _PLUGINS:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a missing dependency inside the package is a real error
                raise


def registered() -> list[str]:
    _load()
    return sorted(_FACTORIES)


def create(kind: str, name: str, config: Any, unit: AudienceUnit) -> SyncDestination:
    """The destination object for one audience unit; KeyError for an unknown kind."""
    _load()
    return _FACTORIES[kind](name, config, unit)
