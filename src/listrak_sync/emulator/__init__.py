"""A local emulator of Listrak's Auth, Email, SMS and Data APIs, faithful to the official specs."""

from typing import TYPE_CHECKING

from .._exports import lazy_exports

if TYPE_CHECKING:
    from .app import create_app
    from .faults import FaultRule
    from .server import EmulatorServer
    from .state import Client, EmulatorState

__all__ = ["Client", "EmulatorServer", "EmulatorState", "FaultRule", "create_app"]

__getattr__ = lazy_exports(
    __name__,
    {
        "create_app": "app",
        "FaultRule": "faults",
        "EmulatorServer": "server",
        "Client": "state",
        "EmulatorState": "state",
    },
)
