"""The destination registry is a literal list: each kind names the class that syncs it."""

from __future__ import annotations

import subprocess
import sys

from listrak_sync.sync import registry
from listrak_sync.sync.destination import SyncDestination


def test_each_kind_names_its_destination_class() -> None:
    for kind, target in registry.KINDS.items():
        factory = registry._load(target)
        assert isinstance(factory, type)
        assert issubclass(factory, SyncDestination)
        assert factory.kind == kind
    assert registry.registered() == sorted(registry.KINDS)


def test_nothing_registers_itself_on_import() -> None:
    """Importing the engine loads no destination; creating one loads only its own kind."""
    probe = (
        "import sys\n"
        "import listrak_sync.sync.engine\n"
        "print(sorted(m for m in sys.modules if m.startswith('listrak_sync.sync.email')"
        " or m.startswith('listrak_sync.sync.sms')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"
