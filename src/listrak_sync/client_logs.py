"""Where the Listrak client's log lines go when a command runs: stderr, readable or JSON.

The client logs on ``listrak_sync.listrak``: one line per retry (``retrying GET /email/v1/List in
2.1 s: connection refused (attempt 2 of 8)``), one per token refresh and per import adopted after
a lost answer, and a closing summary of its requests. ``--log-format text`` (the default) prints
them as they are, except that the summary of a run that saw no retry, 429, adopted import or
token refresh is left out (a healthy run stays quiet), and on a terminal retry lines (and token
refresh lines) are rate-limited: at most one every :data:`RETRY_LINE_INTERVAL` seconds, the next
one saying how many were left out, so a storm of retries does not scroll everything else away.
``--log-format json`` prints every line as one
JSON object (structlog's renderer) with its fields (``kind``, ``reason``, ``attempt``, ...).
Either way, email addresses and phone numbers are masked (:func:`listrak_sync.masking.mask_text`).
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Literal, TextIO

from .masking import mask_text

__all__ = ["CLIENT_LOGGER", "RETRY_LINE_INTERVAL", "LogFormat", "configure_client_logs"]

CLIENT_LOGGER = "listrak_sync.listrak"
RETRY_LINE_INTERVAL = 5.0  # seconds between two retry lines on a terminal

LogFormat = Literal["text", "json"]

# Lines a storm repeats by the hundred: rate-limited together on a terminal.
_FREQUENT = frozenset({"retry", "token_refresh"})


class _MaskPii(logging.Filter):
    """Masks personal data in the message and its arguments, whichever handler prints it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_text(record.getMessage())
        record.args = None
        return True


class _TextLines(logging.Handler):
    """One line per record on stderr; retry lines rate-limited when stderr is a terminal."""

    def __init__(self, stream: TextIO | None, interval: float | None) -> None:
        super().__init__(logging.INFO)
        self._stream = stream
        self._interval = interval
        self._last_retry_line = -float("inf")
        self._left_out = 0

    @property
    def stream(self) -> TextIO:
        # Looked up at each line: rich's progress display swaps sys.stderr while it runs.
        return self._stream or sys.stderr

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if getattr(record, "kind", None) in _FREQUENT and self._interval is not None:
            now = time.monotonic()
            if now - self._last_retry_line < self._interval:
                self._left_out += 1
                return
            self._last_retry_line = now
            if self._left_out:
                text += f" (and {self._left_out:,} more retry or token lines not shown)"
                self._left_out = 0
        elif getattr(record, "kind", None) == "summary":
            if not getattr(record, "eventful", True):
                return  # a healthy run stays quiet; the JSON format keeps every summary
            if self._left_out:
                self.stream.write(f"({self._left_out:,} more retry or token lines not shown)\n")
                self._left_out = 0
        try:
            self.stream.write(text + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            self.handleError(record)


def _json_handler(stream: TextIO | None) -> logging.Handler:
    import structlog

    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                structlog.stdlib.ExtraAdder(),
                structlog.processors.TimeStamper(fmt="iso", utc=True),
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(sort_keys=True),
            ],
        )
    )
    return handler


def configure_client_logs(
    log_format: LogFormat = "text", *, stream: TextIO | None = None, terminal: bool | None = None
) -> None:
    """Send the client's INFO lines to ``stream`` (stderr by default) in ``log_format``.

    ``terminal`` (default: whether stderr is a terminal) turns on the retry-line rate limit of
    the text format. Calling it again replaces the previous set-up."""
    logger = logging.getLogger(CLIENT_LOGGER)
    for old in list(logger.handlers):
        if getattr(old, "_listrak_sync", False):
            logger.removeHandler(old)
    if log_format == "json":
        handler = _json_handler(stream)
    else:
        if terminal is None:
            terminal = (stream or sys.stderr).isatty()
        handler = _TextLines(stream, RETRY_LINE_INTERVAL if terminal else None)
    handler.addFilter(_MaskPii())
    handler._listrak_sync = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    # The lines are printed here; the root logger (if an embedding program set one up) would
    # print them a second time.
    logger.propagate = False
