"""The emulated Privacy API (``/privacy/v1``): forget requests, rate limited as published."""

from __future__ import annotations

from typing import Any

from ..modules import ApiModule
from ..routing import OperationTable
from ..state import EmulatorState
from .requests import (
    SCHEMA,
    apply_due,
    dump_privacy,
    install_requests,
    reset_privacy,
    set_delay,
    start_privacy,
)

__all__ = ["module"]


def _install(state: EmulatorState) -> OperationTable:
    state.register_schema(SCHEMA)
    start_privacy(state)
    state.on_reset(reset_privacy)
    state.before_request(apply_due)
    table = OperationTable()
    install_requests(state, table)
    return table


def _seed(state: EmulatorState, doc: dict[str, Any]) -> None:
    """``processingSeconds``: how long a request stays PROCESSING (default 2)."""
    unknown = set(doc) - {"processingSeconds"}
    if unknown:
        raise ValueError(f"unknown key(s) in the privacy seed: {', '.join(sorted(unknown))}")
    if "processingSeconds" in doc:
        set_delay(state, float(doc["processingSeconds"]))


def _dump(state: EmulatorState, full: bool) -> dict[str, Any]:
    return dump_privacy(state, full)


module = ApiModule("privacy", _install, _seed, _dump)
