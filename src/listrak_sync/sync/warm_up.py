"""Modules a sync will import later, imported in a thread while its first requests wait.

pyarrow imports pandas, when it is installed (the Spark and Snowflake extras bring it), the first
time it turns Python values into Arrow ones — in the audience phase, on the main thread, a
quarter of a second of CPU. The prepare phase before it mostly waits for Listrak (token, list,
fields), so the same import done in a thread then costs no wall time. A module that is not
installed is skipped; an import that fails in the thread is left to fail (or be handled) where
it is needed, as before.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading

__all__ = ["LATER", "import_in_background"]

# Imported by pyarrow's conversions of Python values (``pyarrow.pandas_compat``'s shim).
LATER = ("pandas",)


def import_in_background(names: tuple[str, ...] = LATER) -> threading.Thread | None:
    """Start importing those of ``names`` that are installed and not yet imported; the thread,
    or None when there is nothing to import. Not a daemon: an import is never cut off by the
    interpreter's exit (a sync that stops early waits for it, at most the import's time)."""
    wanted = [name for name in names if name not in sys.modules and _installed(name)]
    if not wanted:
        return None
    thread = threading.Thread(target=_import, args=(wanted,), name="listrak-sync-warm-up")
    thread.start()
    return thread


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _import(names: list[str]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # retried, and reported, where the module is needed
            continue
