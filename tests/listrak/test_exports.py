"""The package re-exports its public names, and only those, each from the one private module
that declares it (the shape every package has: tests/test_package_inits.py)."""

from __future__ import annotations

import importlib
from pathlib import Path

import listrak_sync.listrak as package


def test_every_export_is_declared_by_one_private_module() -> None:
    modules = [
        importlib.import_module(f"{package.__name__}.{path.stem}")
        for path in sorted(Path(package.__path__[0]).glob("_*.py"))
        if path.stem != "__init__"
    ]
    for name in package.__all__:
        owners = [module.__name__ for module in modules if name in module.__all__]
        assert len(owners) == 1, (name, owners)
