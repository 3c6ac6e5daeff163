"""Resident memory of a process, as a run records it and the benchmarks measure it.

``VmHWM`` (the peak) from ``/proc/<pid>/status`` where Linux has it, rather than
``getrusage``'s ``ru_maxrss``: the latter keeps the parent's peak across the exec, so a sync
started by a process holding a 10M-row warehouse (a benchmark) looked 3 GB big.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

__all__ = ["peak_rss_mb", "status_kb"]


def status_kb(field: str, pid: int | str = "self") -> int | None:
    """``field`` of the process's status (``VmHWM``, ``VmRSS``) in kB; None where there is no
    ``/proc`` (or no such field)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def peak_rss_mb() -> int:
    """This process's peak resident memory (whole MB) since it started: ``VmHWM``, else
    ``ru_maxrss`` (KiB on Linux, bytes on macOS)."""
    peak = status_kb("VmHWM")
    if peak is not None:
        return peak // 1024
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss // (1024 * 1024) if sys.platform == "darwin" else maxrss // 1024
