"""The contract between the app and each emulated API (email, sms, data, privacy).

An API module declares its tables, its operations, how to seed it from a document and how to
show what it holds. The app and the admin surface only speak to modules through this contract,
so adding an API is adding a package, not editing the app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .routing import OperationTable
    from .state import EmulatorState

__all__ = ["ApiModule"]


@dataclass(frozen=True)
class ApiModule:
    """One emulated API.

    - ``name``: the key of this API's part in seed documents and state dumps (``"email"``).
    - ``install``: create tables (``state.register_schema``) and return the operations.
    - ``seed``: apply this API's part of a seed document (see the README for its shape).
    - ``dump``: what the API holds, for ``GET /_emulator/state``; ``full=False`` gives counts
      and small collections only, so a million-contact list is not serialised by accident.
    """

    name: str
    install: Callable[[EmulatorState], OperationTable]
    seed: Callable[[EmulatorState, Any], None]
    dump: Callable[[EmulatorState, bool], Any]
