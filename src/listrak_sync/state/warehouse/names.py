"""Table names made from config names (targets, destinations): plain, quoted, and short enough
for every engine (PostgreSQL cuts identifiers at 63 bytes; a long name ends in a hash of the
whole, so two long names never meet)."""

from __future__ import annotations

import hashlib
import re

__all__ = ["table_name"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")
_MAX = 54  # leaves room for a "_staged" suffix under 63


def table_name(prefix: str, name: str) -> str:
    """``{prefix}_{name}`` with anything but letters, digits and ``_`` as ``_``."""
    plain = f"{prefix}_{_UNSAFE.sub('_', name)}"
    if len(plain) <= _MAX:
        return plain
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{plain[: _MAX - 9]}_{digest}"
