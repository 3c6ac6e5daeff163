"""Bulk list import or per-contact calls: which one finishes a step sooner.

A list import costs about the same whether it carries ten rows or a hundred thousand: the
upload, Listrak's queue and processing, polling until ``Completed``, and (when the results are
mixed) reading them back. Per-contact calls cost ``calls × latency ÷ concurrency`` (or the
learnt rate limit, if lower). Each step is estimated both ways and takes the quicker; the choice
and its figures are journaled with the step, so a resumed run finishes the step the same way.
See docs/explanation/sync-engine.md ("Bulk or per contact").

The figures come from what was measured, newest first:

- latency: this run's calls so far (the client's metrics; imports' uploads left out);
- the rate: the client's pacer, when it has learnt (or was given) a limit;
- per-contact throughput: ``calls_per_second`` of earlier per-contact steps of this target, when
  lower than latency and concurrency promise (a loaded server answers slower under load);
- import turnaround: ``import_seconds`` of this target's recent import steps of a similar size
  (``Observed.turnaround``), or ``DEFAULT_IMPORT_SECONDS`` when none was observed.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from .contacts import CONTACT_CALLS

if TYPE_CHECKING:
    from ..context import RunContext

__all__ = [
    "DEFAULT_IMPORT_SECONDS",
    "DEFAULT_LATENCY",
    "Observed",
    "PathChoice",
    "choose",
    "observed",
]

# A list import's turnaround when this target has none on record: Listrak queues imports and
# processes them in the background; a small one is typically done within a minute.
DEFAULT_IMPORT_SECONDS = 60.0
# Seconds per call before any was measured.
DEFAULT_LATENCY = 0.25
# Import results are read back 5,000 contacts a page when they are mixed.
RESULT_PAGE = 5_000
# How many recent runs of the target are read for observations.
RECENT_RUNS = 10

Path = Literal["imports", "contacts"]


@dataclass(frozen=True)
class Observed:
    latency: float  # seconds per call
    concurrency: int
    rate: float | None  # requests/s the pacer allows, if limited
    import_seconds: float  # one import's turnaround
    calls_per_second: float | None  # earlier per-contact steps' measured throughput
    import_basis: str  # "observed (n imports)" or "default"
    # (rows, seconds) of this target's recent imports, when their sizes were recorded.
    import_sizes: tuple[tuple[int, float], ...] = ()

    def turnaround(self, rows: int) -> float:
        """An import's expected seconds for ``rows`` rows: the median of recent imports of a
        similar size (within 10x); else the time of the smallest larger import (an upper
        bound: a smaller file is not slower, and erring high only keeps the per-contact path),
        or the largest one's scaled by rows when this one is larger than all; else
        ``import_seconds``."""
        similar = [s for n, s in self.import_sizes if n / 10 <= rows <= n * 10]
        if similar:
            return statistics.median(similar)
        larger = [(n, s) for n, s in self.import_sizes if n >= rows]
        if larger:
            return min(larger)[1]
        if self.import_sizes:
            largest = max(self.import_sizes)
            return largest[1] * rows / max(largest[0], 1)
        return self.import_seconds


@dataclass(frozen=True)
class PathChoice:
    path: Path
    contacts_seconds: float
    imports_seconds: float
    calls: int

    def journal(self, basis: Observed, forced: bool) -> dict[str, Any]:
        return {
            "path": self.path,
            "estimate": {
                "contacts_seconds": round(self.contacts_seconds, 3),
                "imports_seconds": round(self.imports_seconds, 3),
                "calls": self.calls,
                "forced": forced,
                **{
                    k: (round(v, 4) if isinstance(v, float) else v)
                    for k, v in asdict(basis).items()
                    if k != "import_sizes"
                },
            },
        }


def choose(kind: str, rows: int, *, owner: bool, basis: Observed) -> PathChoice:
    """The quicker path for a ``kind`` step of ``rows`` rows; ``owner``: mode mirror records
    who an ``add`` created (one more call per created contact, or one more import)."""
    calls = rows * CONTACT_CALLS[kind] + (rows if kind == "add" and owner else 0)
    throughput = basis.concurrency / max(basis.latency, 1e-4)
    for limit in (basis.rate, basis.calls_per_second):
        if limit is not None and limit > 0:
            throughput = min(throughput, limit)
    contacts = calls / throughput
    imports = basis.turnaround(rows) * (2 if kind == "add" and owner else 1)
    imports += basis.latency * math.ceil(rows / RESULT_PAGE)
    return PathChoice("contacts" if contacts < imports else "imports", contacts, imports, calls)


def observed(ctx: RunContext[Any]) -> Observed:
    """The figures ``choose`` needs, from the client and this target's journal."""
    session = ctx.client.email.session
    latency = _latency(session.metrics.snapshot()["operations"])
    imports: list[float] = []
    sizes: list[tuple[int, float]] = []
    throughputs: list[float] = []
    for run in ctx.store.runs("sync", ctx.target_name, limit=RECENT_RUNS):
        for step in ctx.store.steps(run.run_id):
            result = (step.result or {}).get("summary") or {}
            if isinstance(result.get("import_seconds"), int | float):
                imports.append(float(result["import_seconds"]))
                if isinstance(result.get("rows"), int):
                    sizes.append((int(result["rows"]), float(result["import_seconds"])))
            if isinstance(result.get("calls_per_second"), int | float):
                throughputs.append(float(result["calls_per_second"]))
    return Observed(
        latency=latency,
        concurrency=ctx.client.settings.max_concurrency,
        rate=session.pacer.rate,
        import_seconds=statistics.median(imports) if imports else DEFAULT_IMPORT_SECONDS,
        calls_per_second=statistics.median(throughputs) if throughputs else None,
        import_basis=f"observed ({len(imports)} imports)" if imports else "default",
        import_sizes=tuple(sizes),
    )


def _latency(operations: dict[str, dict[str, Any]]) -> float:
    """Mean seconds per email call, leaving out uploads and each operation's slowest call
    (the first call of a run also opens the connection)."""
    total, count = 0.0, 0
    for name, op in operations.items():
        if not name.startswith("email.") or "ListImport_Post" in name:
            continue
        requests = int(op["requests"])
        if requests < 1 or op["latency_mean"] is None:
            continue
        spent = float(op["latency_mean"]) * requests
        if requests > 1:
            spent -= float(op["latency_max"])
            requests -= 1
        total += spent
        count += requests
    return total / count if count else DEFAULT_LATENCY
