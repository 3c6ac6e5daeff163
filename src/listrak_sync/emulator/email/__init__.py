"""The emulated Email API (``/email/v1``): lists, contacts, profile fields, list imports,
and sent messages with their activity."""

from __future__ import annotations

from typing import Any

from ..modules import ApiModule
from ..routing import OperationTable
from ..state import EmulatorState
from .addresses import SCHEMA as ADDRESS_SCHEMA
from .contacts import install_contacts
from .fields import install_fields
from .import_queue import import_queue, install_queue
from .imports import install_imports
from .lists import install_lists
from .messages import install_messages
from .seeding import dump_email, seed_email

__all__ = ["import_queue", "module"]


def _install(state: EmulatorState) -> OperationTable:
    table = OperationTable()
    state.register_schema(ADDRESS_SCHEMA)
    install_lists(state, table)
    install_fields(state, table)
    install_contacts(state, table)
    install_imports(state, table, install_queue(state))
    install_messages(state, table)
    return table


def _seed(state: EmulatorState, doc: dict[str, Any]) -> None:
    seed_email(state, doc)


def _dump(state: EmulatorState, full: bool) -> dict[str, Any]:
    return dump_email(state, full)


module = ApiModule("email", _install, _seed, _dump)
