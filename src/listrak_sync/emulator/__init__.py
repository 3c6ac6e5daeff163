"""A local emulator of Listrak's Auth, Email, SMS and Data APIs, faithful to the official specs."""

from .app import create_app
from .faults import FaultRule
from .server import EmulatorServer
from .state import Client, EmulatorState

__all__ = ["Client", "EmulatorServer", "EmulatorState", "FaultRule", "create_app"]
