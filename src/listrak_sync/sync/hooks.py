"""Named points in a run, where tests stop the process to prove a killed run resumes.

``LISTRAK_SYNC_PAUSE_AT=<point>`` makes the process write the point's name to the file named by
``LISTRAK_SYNC_PAUSE_FILE`` when it reaches that point, then sleep until it is killed (the test
sends SIGKILL). In-process tests register a callback with :func:`on_checkpoint` instead, e.g. to
expire tokens between two steps. Points: ``planned``, ``before_step:{id}``, ``submitted:{id}``,
``journaled:{id}``, ``done:{id}``, ``before_commit``, ``committed``; ``forget_submitted``
(``listrak-sync forget``: Listrak accepted a request, not yet journaled).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["PAUSE_AT", "PAUSE_FILE", "checkpoint", "on_checkpoint"]

PAUSE_AT = "LISTRAK_SYNC_PAUSE_AT"
PAUSE_FILE = "LISTRAK_SYNC_PAUSE_FILE"

_callbacks: list[Callable[[str], None]] = []


def checkpoint(point: str) -> None:
    """Mark that the run reached ``point``."""
    for callback in list(_callbacks):
        callback(point)
    if os.environ.get(PAUSE_AT) != point:
        return
    signal_file = os.environ.get(PAUSE_FILE)
    if signal_file:
        # Written aside and renamed, so a test that sees the file never reads it half-written.
        pending = Path(f"{signal_file}.tmp")
        pending.write_text(point, "utf-8")
        pending.replace(signal_file)
    while True:  # frozen on purpose, event loop included: the test kills us here
        time.sleep(3600)


@contextmanager
def on_checkpoint(callback: Callable[[str], None]) -> Iterator[None]:
    """Call ``callback(point)`` at every point while the block runs."""
    _callbacks.append(callback)
    try:
        yield
    finally:
        _callbacks.remove(callback)
