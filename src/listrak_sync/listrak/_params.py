"""Query parameters of API calls: the spec's names, absent rather than empty."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

__all__ = ["query", "when"]


def when(value: date | datetime | str | None) -> str | None:
    """A date parameter as ISO 8601 text (text is passed through as given)."""
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def query(**values: Any) -> dict[str, Any]:
    """The parameters that have a value; None means "leave it out"."""
    return {key: value for key, value in values.items() if value is not None}
