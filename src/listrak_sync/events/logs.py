"""Structured JSON logs (structlog), one line per event, without PII unless asked for.

Email addresses and field values never reach a log line by default; where a contact must be
named, :func:`contact_ref` gives a short keyed hash instead, so lines about one contact can
still be told apart and correlated.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from typing import Any, TextIO

import structlog

__all__ = ["EventLogger", "contact_ref", "make_logger"]

EventLogger = Any  # structlog's filtering bound logger; its type is generated at runtime


def make_logger(*, level: str = "info", stream: TextIO | None = None) -> EventLogger:
    """A logger writing JSON lines to ``stream`` (stderr by default)."""
    return structlog.wrap_logger(
        structlog.PrintLogger(stream or sys.stderr),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(sort_keys=True),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        cache_logger_on_first_use=True,
    ).bind(component="listrak-sync-events")


def contact_ref(email: str, *, pii: bool) -> str:
    """The email itself when PII logging is on, else ``c:`` and 12 hex digits of its hash."""
    if pii:
        return email
    return "c:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:12]
