"""Resident memory of a process as Linux reports it in ``/proc/<pid>/status``, for the
benchmarks that measure each engine in a spawned process.

Read through the package's own reader (``listrak_sync.sync.memory``, what a run records): here
in MB for any process (a JVM child too), with the current size (``VmRSS``) and a reset of the
peak, which the benchmarks need and a run does not.
"""

from __future__ import annotations

from pathlib import Path

from listrak_sync.sync.memory import status_kb


def status_mb(field: str, pid: int | str = "self") -> float:
    """``field`` of the process's status (``VmHWM``, ``VmRSS``) in MB."""
    found = status_kb(field, pid)
    if found is None:
        raise LookupError(f"{field} of process {pid}")
    return found / 1024


def peak_rss_mb(pid: int | str = "self") -> float:
    """The process's peak resident memory (MB) since it started or since ``reset_peak``."""
    return status_mb("VmHWM", pid)


def reset_peak() -> None:
    """Reset this process's peak to its current size, so ``peak_rss_mb`` only sees what
    follows (writing 5 to ``clear_refs``, Linux 4.0 and later)."""
    Path("/proc/self/clear_refs").write_text("5")


def rss_mb() -> float:
    """This process's resident memory now, after resetting the peak (see ``reset_peak``)."""
    reset_peak()
    return status_mb("VmRSS")
