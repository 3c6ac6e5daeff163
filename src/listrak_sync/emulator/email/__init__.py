"""The emulated Email API (``/email/v1``)."""

from __future__ import annotations

from typing import Any

from ..modules import ApiModule
from ..routing import OperationTable
from ..state import EmulatorState
from .lists import install_lists, seed_list

__all__ = ["module"]


def _install(state: EmulatorState) -> OperationTable:
    table = OperationTable()
    install_lists(state, table)
    return table


def _seed(state: EmulatorState, doc: dict[str, Any]) -> None:
    for entry in doc.get("lists", []):
        seed_list(state, entry)


def _dump(state: EmulatorState, full: bool) -> dict[str, Any]:
    lists = state.db.execute("SELECT list_id, list_name FROM email_list ORDER BY 1").fetchall()
    return {"lists": [{"listId": list_id, "listName": name} for list_id, name in lists]}


module = ApiModule("email", _install, _seed, _dump)
