"""Request metrics the caller can read at any time and store in a run record."""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LATENCY_BUCKETS", "Metrics", "OperationMetrics"]

# Upper bounds in seconds, Prometheus style; the last bucket is everything slower.
LATENCY_BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip


@dataclass
class OperationMetrics:
    """Counters for one operation (``email.Contact_GetContactCollection``, ...)."""

    requests: int = 0
    retries: int = 0
    errors: int = 0
    latency_sum: float = 0.0
    latency_max: float = 0.0
    bytes_sent: int = 0
    bytes_received: int = 0
    buckets: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))

    def observe(self, seconds: float) -> None:
        self.latency_sum += seconds
        self.latency_max = max(self.latency_max, seconds)
        self.buckets[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1

    def quantile(self, q: float) -> float | None:
        """Upper bound of the bucket holding quantile ``q`` (an estimate, like Prometheus)."""
        total = sum(self.buckets)
        if total == 0:
            return None
        rank, seen = q * total, 0
        for index, count in enumerate(self.buckets):
            seen += count
            if seen >= rank and count:
                return LATENCY_BUCKETS[index] if index < len(LATENCY_BUCKETS) else self.latency_max
        return self.latency_max


@dataclass
class Metrics:
    """Totals across one client's integrations, with a breakdown per operation.

    ``requests`` counts HTTP exchanges (answers and transport failures), ``retries`` the repeated
    attempts among them, ``retries_by_reason`` the same by what went wrong (``HTTP 500``,
    ``connection refused``, ``429 rate limited``...), ``errors_by_code`` every error answer by
    Listrak code (``HTTP_<status>`` when the body had none, ``TRANSPORT_<kind>`` when there was
    no answer). ``imports_adopted`` counts imports found already started after their answer was
    lost (and so not sent again); ``answered`` holds the origins (``scheme://host:port``) that
    answered at least once, which tells a wrong URL from an outage.
    """

    operations: dict[str, OperationMetrics] = field(default_factory=dict)
    errors_by_code: Counter[str] = field(default_factory=Counter)
    retries_by_reason: Counter[str] = field(default_factory=Counter)
    token_requests: int = 0
    token_refreshes_on_401: int = 0
    token_refreshes: int = 0
    rate_limited: int = 0
    imports_adopted: int = 0
    answered: set[str] = field(default_factory=set)

    def operation(self, name: str) -> OperationMetrics:
        found = self.operations.get(name)
        if found is None:
            found = self.operations[name] = OperationMetrics()
        return found

    def _total(self, attribute: str) -> Any:
        return sum(getattr(op, attribute) for op in self.operations.values())

    @property
    def requests(self) -> int:
        return int(self._total("requests"))

    @property
    def retries(self) -> int:
        return int(self._total("retries"))

    @property
    def errors(self) -> int:
        return int(self._total("errors"))

    @property
    def bytes_sent(self) -> int:
        return int(self._total("bytes_sent"))

    @property
    def bytes_received(self) -> int:
        return int(self._total("bytes_received"))

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy: totals, errors by code, and per-operation counts and latency."""
        return {
            "requests": self.requests,
            "retries": self.retries,
            "errors": self.errors,
            "rate_limited": self.rate_limited,
            "token_requests": self.token_requests,
            "token_refreshes_on_401": self.token_refreshes_on_401,
            "token_refreshes": self.token_refreshes,
            "retries_by_reason": dict(sorted(self.retries_by_reason.items())),
            "imports_adopted": self.imports_adopted,
            "bytes_sent": self.bytes_sent,
            "bytes_received": self.bytes_received,
            "errors_by_code": dict(sorted(self.errors_by_code.items())),
            "operations": {
                name: {
                    "requests": op.requests,
                    "retries": op.retries,
                    "errors": op.errors,
                    "bytes_sent": op.bytes_sent,
                    "bytes_received": op.bytes_received,
                    "latency_mean": op.latency_sum / op.requests if op.requests else None,
                    "latency_p50": op.quantile(0.5),
                    "latency_p95": op.quantile(0.95),
                    "latency_max": op.latency_max,
                }
                for name, op in sorted(self.operations.items())
            },
        }

    def summary(self) -> str:
        """One line for the end of a run: requests (token requests included), retries by
        reason, 429s, adopted imports, token refreshes."""
        parts = [f"{self.requests + self.token_requests:,} requests"]
        if self.retries:
            reasons = ", ".join(
                f"{reason} ×{count:,}" for reason, count in self.retries_by_reason.most_common()
            )
            parts.append(f"{self.retries:,} retries ({reasons})")
        else:
            parts.append("no retries")
        parts.append(f"{self.rate_limited:,} rate-limited (429)")
        if self.imports_adopted:
            parts.append(f"{self.imports_adopted:,} imports adopted after a lost answer")
        if self.token_refreshes:
            parts.append(f"{self.token_refreshes:,} token refreshes")
        return ", ".join(parts)
