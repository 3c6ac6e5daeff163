"""``listrak-sync demo``: the whole product end to end against the embedded emulator.

``command.py`` is the command (an emulator on a free loopback port, the sandbox seeded, what
Listrak holds shown); each destination adds its part: ``email_demo.py`` (a sample project synced
to the Newsletter list twice) and ``sms_demo.py`` (the same project synced to an SMS list).
Demo code lives here only: the product packages never import it.
"""

from .command import demo

__all__ = ["demo"]
