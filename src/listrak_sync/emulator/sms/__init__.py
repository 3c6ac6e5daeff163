"""The emulated SMS API (`/sms/v1`)."""

from __future__ import annotations

from typing import Any

from ..modules import ApiModule
from ..routing import OperationTable
from ..state import EmulatorState

__all__ = ["module"]


def _install(state: EmulatorState) -> OperationTable:
    return OperationTable()


def _seed(state: EmulatorState, doc: dict[str, Any]) -> None:
    return None


def _dump(state: EmulatorState, full: bool) -> dict[str, Any]:
    return {}


module = ApiModule("sms", _install, _seed, _dump)
