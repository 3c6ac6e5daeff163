"""Imports between the parts of the package: no cycle, and the layers of
docs/explanation/layers.md.

Each top-level package (``sync``, ``project``, ...) is a node, and so is each top-level module;
every ``cli.py`` belongs to one more node, the command line, which sits on top of everything
(it renders library calls). Every import counts, including those inside functions and under
``TYPE_CHECKING``: a lazy import hides a cycle from Python, not from a reader.

From the bottom up: ``config`` (the project file's models: no files, no environment, no
secrets) -> the feature packages, which take resolved, typed config as arguments and never
import the project loader -> ``project`` (loading with positions, resolving secrets,
validation) -> ``sync``, ``runtime`` (which run what a loaded project names) -> ``api`` (the
library calls, including the event server's setup and what an export sends where) -> ``cli``
and the web console.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "src" / "listrak_sync"

# The packages that receive their config resolved (sync and runtime, above project, still open
# what a project names themselves; see docs/explanation/layers.md).
FEATURES = {"audiences", "events", "files", "listrak", "privacy", "source", "state", "warehouse"}


def _node(module: list[str]) -> str:
    """The part of the package a module (``["listrak_sync", "sync", "engine"]``) belongs to."""
    if module[-1] == "cli" and len(module) > 2:
        return "cli"
    return module[1] if len(module) > 1 else "<root>"


def _imports(path: Path) -> Iterator[list[str]]:
    # The package relative imports start from: a module's folder (also for an __init__.py).
    package = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = base + (node.module.split(".") if node.module else [])
            else:
                target = (node.module or "").split(".")
            if target[0] != "listrak_sync":
                continue
            if len(target) == 1:  # from listrak_sync import x: x names the part
                yield from (["listrak_sync", alias.name] for alias in node.names)
            else:
                yield target
        elif isinstance(node, ast.Import):
            yield from (a.name.split(".") for a in node.names if a.name.startswith("listrak_sync."))


def _graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        source = _node(parts[:-1] if parts[-1] == "__init__" else parts)
        for target in _imports(path):
            name = _node(target)
            if name != source and not name.startswith("__"):
                edges.setdefault(source, set()).add(name)
    return edges


def _cycles(edges: dict[str, set[str]]) -> set[frozenset[str]]:
    """The strongly connected parts of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: set[frozenset[str]] = set()

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in edges.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            part = set()
            while True:
                member = stack.pop()
                part.add(member)
                if member == node:
                    break
            if len(part) > 1:
                found.add(frozenset(part))

    for node in list(edges):
        if node not in index:
            visit(node)
    return found


def test_no_cycle_between_parts_of_the_package() -> None:
    cycles = [sorted(c) for c in _cycles(_graph())]
    assert not cycles, f"import cycles between packages: {cycles}"


def test_the_config_models_are_the_lowest_layer() -> None:
    # The warehouse URL parser checks `warehouse.connection`; nothing else of the package.
    assert _graph()["config"] <= {"_exports", "warehouse"}


def test_feature_packages_never_import_the_project_loader() -> None:
    edges = _graph()
    assert {name for name in FEATURES if "project" in edges.get(name, set())} == set()
    assert {name for name in FEATURES if "api" in edges.get(name, set())} == set()


def test_the_library_the_errors_and_the_command_line_are_in_no_cycle() -> None:
    in_cycles = set().union(*_cycles(_graph()))
    assert not in_cycles & {"api", "errors", "cli", "listrak", "state", "warehouse"}


def test_the_graph_sees_lazy_imports() -> None:
    edges = _graph()
    assert "api" in edges["cli"]  # sync/cli.py renders listrak_sync.api calls
    assert "errors" in edges["listrak"]
