"""JSON paths into an event: ``$.context.traits.email``, ``$.properties["Order Id"]``, ``$.a[0]``.

Only member and index steps: mappings name one value, so wildcards and filters have no use here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["MISSING", "JsonPath", "first_present"]

_DOT = re.compile(r"\.([A-Za-z_$][A-Za-z0-9_$\-]*)")
_QUOTED = re.compile(r"""\[\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\]""")
_INDEX = re.compile(r"\[\s*(-?\d+)\s*\]")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""What :meth:`JsonPath.get` returns when the path leads nowhere (``None`` is JSON null)."""


@dataclass(frozen=True)
class JsonPath:
    text: str
    steps: tuple[str | int, ...]

    @staticmethod
    @lru_cache(maxsize=1024)
    def parse(text: str) -> JsonPath:
        """Parse ``text``; ValueError names the position of the first problem."""
        if not text.startswith("$"):
            raise ValueError(f"a path starts with `$` (got {text!r})")
        steps: list[str | int] = []
        at = 1
        while at < len(text):
            for pattern in (_DOT, _QUOTED, _INDEX):
                found = pattern.match(text, at)
                if found is None:
                    continue
                if pattern is _INDEX:
                    steps.append(int(found.group(1)))
                elif pattern is _QUOTED:
                    raw = found.group(1) if found.group(1) is not None else found.group(2)
                    steps.append(re.sub(r"\\(.)", r"\1", raw))
                else:
                    steps.append(found.group(1))
                at = found.end()
                break
            else:
                raise ValueError(
                    f"cannot read path {text!r} at character {at + 1}: expected `.name`, "
                    '`["name"]` or `[index]`'
                )
        return JsonPath(text, tuple(steps))

    def get(self, doc: Any) -> Any:
        """The value at this path, or :data:`MISSING`."""
        current = doc
        for step in self.steps:
            if isinstance(step, int):
                if not isinstance(current, list) or not -len(current) <= step < len(current):
                    return MISSING
                current = current[step]
            elif isinstance(current, dict) and step in current:
                current = current[step]
            else:
                return MISSING
        return current


def first_present(paths: list[str], doc: Any) -> tuple[str, Any]:
    """The first of ``paths`` that holds a non-null value in ``doc``: ``(path, value)``.

    ``(paths[0], MISSING)`` when none does."""
    for text in paths:
        value = JsonPath.parse(text).get(doc)
        if value is not MISSING and value is not None:
            return text, value
    return paths[0], MISSING
