"""Every package's ``__init__.py`` has one shape (docs/explanation/layers.md): a docstring, the
public names imported under ``TYPE_CHECKING``, a sorted ``__all__`` of exactly those names, and
``__getattr__ = lazy_exports(...)``, which imports each name's module on first use."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "src" / "listrak_sync"

# Packages whose __init__ holds code rather than re-exports: the root (which also keeps the call
# `sync` from being shadowed by the subpackage) and the emulator's API modules (each builds its
# module object from the operations of its folder).
OTHERS = {
    "listrak_sync",
    *(f"listrak_sync.emulator.{n}" for n in ("data", "email", "privacy", "sms")),
}

INITS = sorted(
    name
    for path in PACKAGE.rglob("__init__.py")
    if (name := ".".join(path.parent.relative_to(PACKAGE.parent).parts)) not in OTHERS
)


def _ruff_order(name: str) -> tuple[int, str]:
    # isort style, as ruff's RUF022 sorts: CONSTANTS, then Classes, then functions.
    group = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return group, name


def _declared(tree: ast.Module) -> dict[str, str]:
    """name -> the module (relative to the package) it is imported from under TYPE_CHECKING."""
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom)
                assert statement.level == 1
                found.update((a.asname or a.name, statement.module or "") for a in statement.names)
    return found


@pytest.mark.parametrize("name", INITS)
def test_the_init_only_re_exports_lazily(name: str) -> None:
    path = PACKAGE.parent.joinpath(*name.split("."), "__init__.py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{path}: no docstring"
    constants: set[str] = set()
    for node in tree.body[1:]:
        code = ast.unparse(node)
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            target = node.targets[0].id
            # A constant kept light on purpose (sample_data's seed).
            if target.isupper() and target != "_HOMES":
                constants.add(target)
                continue
            assert target in {"__all__", "__getattr__", "_HOMES"}, f"{path}: {code}"
            if target == "__getattr__":
                assert code.startswith("__getattr__ = lazy_exports(__name__,"), f"{path}: {code}"
        elif not isinstance(node, ast.If):
            assert code in {
                "from typing import TYPE_CHECKING",
                f"from {'.' * (name.count('.') + 1)}_exports import lazy_exports",
            }, f"{path}: {code}"
    package = importlib.import_module(name)
    declared = _declared(tree)
    assert package.__all__ == sorted(package.__all__, key=_ruff_order), name
    assert set(package.__all__) == set(declared) | constants, name
    for export, home in declared.items():
        module = importlib.import_module(f"{name}.{home}")
        assert getattr(package, export) is getattr(module, export), (name, export)


def test_importing_a_package_imports_none_of_its_modules() -> None:
    probe = (
        "import importlib, sys\n"
        f"for name in {INITS!r}: importlib.import_module(name)\n"
        "print(sorted(n for n, m in sys.modules.items() if n.startswith('listrak_sync.')"
        " and not hasattr(m, '__path__')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "['listrak_sync._exports']"
