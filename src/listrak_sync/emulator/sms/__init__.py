"""The emulated SMS API (``/sms/v1``): sender codes, lists, contacts, subscriptions, opt-outs,
profile fields and the contact update import."""

from __future__ import annotations

from typing import Any

from ..modules import ApiModule
from ..routing import OperationTable
from ..state import EmulatorState
from .batch import WriteBatcher
from .catalog import forget
from .contacts import install_contacts
from .fields import install_fields
from .imports import install_imports, resume_imports
from .phone_lists import install_phone_lists
from .schema import SCHEMA
from .seed import dump_sms, seed_sms
from .sender_codes import install_sender_codes
from .subscriptions import install_subscriptions

__all__ = ["module"]


def _install(state: EmulatorState) -> OperationTable:
    state.register_schema(SCHEMA)
    state.on_reset(forget)
    table = OperationTable()
    install_sender_codes(state, table)
    install_phone_lists(state, table)
    install_fields(state, table)
    # Creates and subscribes share one batch: a subscribe must see the create of its number.
    batcher = WriteBatcher(state)
    install_contacts(state, table, batcher)
    install_subscriptions(state, table, batcher)
    install_imports(state, table)
    # With --state FILE, imports accepted before a restart finish after it.
    resume_imports(state)
    return table


def _seed(state: EmulatorState, doc: dict[str, Any]) -> None:
    seed_sms(state, doc)


def _dump(state: EmulatorState, full: bool) -> dict[str, Any]:
    return dump_sms(state, full)


module = ApiModule("sms", _install, _seed, _dump)
