"""Resident memory of a process as Linux reports it in ``/proc/<pid>/status``, for the
benchmarks that measure each engine in a spawned process.

``VmHWM`` (the peak) rather than ``getrusage``'s ``ru_maxrss``: the latter keeps the parent's
peak across the spawn's exec, so a child spawned by a test holding a big warehouse would look
as big. The engine's own figure (``sync.engine._peak_rss_mb``, whole MB, falling back to
``ru_maxrss`` off Linux) is what a run records; these read any process (a JVM child too), the
current size (``VmRSS``) and can reset the peak, which the benchmarks need and a run does not.
"""

from __future__ import annotations

from pathlib import Path


def status_mb(field: str, pid: int | str = "self") -> float:
    """``field`` of the process's status (``VmHWM``, ``VmRSS``) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB
    raise LookupError(field)


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
