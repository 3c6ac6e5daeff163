"""The package re-exports its public names, and only those, in a sorted ``__all__``."""

from __future__ import annotations

import listrak_sync.listrak as package


def _ruff_order(name: str) -> tuple[int, str]:
    # isort style, as ruff's RUF022 sorts: CONSTANTS, then Classes, then functions.
    group = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return group, name


def test_all_is_sorted() -> None:
    assert package.__all__ == sorted(package.__all__, key=_ruff_order)


def test_all_is_complete() -> None:
    public = {name for name in vars(package) if not name.startswith("_")}
    assert public == set(package.__all__)


def test_every_export_is_declared_by_one_private_module() -> None:
    modules = [
        module
        for name, module in vars(package).items()
        if name.startswith("_") and getattr(module, "__name__", "").startswith(package.__name__)
    ]
    for name in package.__all__:
        owners = [module.__name__ for module in modules if name in module.__all__]
        assert len(owners) == 1, (name, owners)
