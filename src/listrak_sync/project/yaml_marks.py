"""YAML loading that remembers where every value came from.

PyYAML's composer gives nodes with start marks; we build the Python data ourselves from those
nodes so that each value (and each mapping key) can be traced back to its line and column. That
is what lets pydantic errors and reference checks point at the exact spot in the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .problems import Problem, ProjectError

__all__ = ["Marked", "Path", "Position", "load_marked"]

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Position:
    """A 1-based line and column in a file."""

    line: int
    column: int


@dataclass
class Marked:
    """Data loaded from a YAML file plus the position of each value and mapping key."""

    file: str
    data: Any
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)
    scalars: dict[Path, ScalarNode] = field(default_factory=dict)
    text: str = ""
    problems: list[Problem] = field(default_factory=list)  # e.g. duplicate keys

    def value_at(self, path: Path) -> Position:
        """Where the value at ``path`` starts; the nearest known ancestor if it is absent."""
        for end in range(len(path), -1, -1):
            found = self.values.get(path[:end])
            if found is not None:
                return found
        return Position(1, 1)

    def key_at(self, path: Path) -> Position:
        """Where the mapping key that ends ``path`` is written (falls back to the value)."""
        return self.keys.get(path) or self.value_at(path)

    def problem(
        self, path: Path, message: str, hint: str | None = None, *, key: bool = False
    ) -> Problem:
        pos = self.key_at(path) if key else self.value_at(path)
        return Problem(self.file, pos.line, pos.column, message, hint)


def _position(node: Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, marked: Marked) -> None:
        self.loader = loader
        self.marked = marked
        self.problems: list[Problem] = []

    def build(self, node: Node, path: Path) -> Any:
        self.marked.values[path] = _position(node)
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        self.marked.scalars[path] = node
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node: MappingNode, path: Path) -> dict[Any, Any]:
        explicit = {id(k) for k, _ in node.value}
        self.loader.flatten_mapping(node)  # resolves YAML merge keys (<<: *anchor)
        result: dict[Any, Any] = {}
        seen_explicit: set[Any] = set()
        for key_node, value_node in node.value:
            key = self.loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool):
                pos = _position(key_node)
                self.problems.append(
                    Problem(self.marked.file, pos.line, pos.column, "mapping keys must be plain")
                )
                continue
            if id(key_node) in explicit:
                if key in seen_explicit:
                    pos = _position(key_node)
                    self.problems.append(
                        Problem(
                            self.marked.file,
                            pos.line,
                            pos.column,
                            f"duplicate key {key!r}",
                            "each key may appear once in a mapping; the later one would win",
                        )
                    )
                seen_explicit.add(key)
            child = (*path, key if isinstance(key, str | int) else str(key))
            self.marked.keys[child] = _position(key_node)
            result[key] = self.build(value_node, child)
        return result


def load_marked(text: str, file: str) -> Marked:
    """Parse one YAML document, raising ProjectError (with positions) if it is not valid YAML."""
    marked = Marked(file=file, data=None, text=text)
    loader = yaml.SafeLoader(text)
    builder = _Builder(loader, marked)
    try:
        node = loader.get_single_node()
        if node is None:
            marked.data = {}
            return marked
        marked.data = builder.build(node, ())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = exc.problem or "not valid YAML"
        context = f" {exc.context}" if exc.context else ""
        raise ProjectError.single(
            file, f"not valid YAML: {problem}{context}", line=line, column=column
        ) from None
    except yaml.YAMLError as exc:
        raise ProjectError.single(file, f"not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    marked.problems.extend(builder.problems)
    return marked
