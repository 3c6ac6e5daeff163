"""The emulated Data Import API (``/data/v1``): customers, orders, products, rating summaries
and reviews, checked against the spec and stored by their natural keys."""

from __future__ import annotations

from typing import Any

from ..errors import ListrakHTTPError
from ..modules import ApiModule
from ..routing import OperationTable
from ..state import EmulatorState
from .imports import check_records, install_imports
from .store import ENTITIES, SCHEMA, dump_data, now, set_crm_enabled, upsert

__all__ = ["module"]


def _install(state: EmulatorState) -> OperationTable:
    state.register_schema(SCHEMA)
    table = OperationTable()
    install_imports(state, table)
    return table


def _seed(state: EmulatorState, doc: dict[str, Any]) -> None:
    """``crmEnabled`` and records per entity, checked exactly like an API request."""
    unknown = set(doc) - {"crmEnabled", *ENTITIES}
    if unknown:
        raise ValueError(f"unknown key(s) in the data seed: {', '.join(sorted(unknown))}")
    if "crmEnabled" in doc:
        set_crm_enabled(state, bool(doc["crmEnabled"]))
    for name, entity in ENTITIES.items():
        if doc.get(name):
            try:
                keys = check_records(state, entity, doc[name])
            except ListrakHTTPError as exc:
                raise ValueError(exc.message) from None
            upsert(state, entity, doc[name], keys, now(state))


def _dump(state: EmulatorState, full: bool) -> dict[str, Any]:
    return dump_data(state, full)


module = ApiModule("data", _install, _seed, _dump)
