"""Fault injection: latency, a leaky-bucket rate limit, 5xx answers, dropped connections.

Faults are rules. Each rule matches requests (all, one client's, a path pattern, a method) and
says what goes wrong. Rules are set through the admin surface (``/_emulator/faults``) and are
never persisted: a restarted emulator is healthy. Deterministic counters (``fail_next``,
``drop_next``) exist beside random shares so tests can say exactly which request fails.
"""

from __future__ import annotations

import math
import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Decision", "FaultRule", "FaultSet"]


class FaultRule(BaseModel):
    """One fault rule. Unset matchers match everything."""

    model_config = ConfigDict(extra="forbid")

    client_id: str | None = None
    path: str | None = Field(default=None, description="regular expression searched in the path")
    method: str | None = None
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    rate_per_second: float | None = Field(default=None, gt=0, description="leak rate")
    burst: int = Field(default=10, ge=1, description="bucket size")
    bare_429: bool = Field(
        default=False,
        description="answer the rate limit's 429 with no Retry-After and no Listrak error body, "
        "as real Listrak may (neither is documented)",
    )
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    error_status: Literal[500, 502, 503, 504] = 503
    fail_next: int = Field(default=0, ge=0)
    drop_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    drop_next: int = Field(default=0, ge=0)
    drop_after_apply: bool = Field(
        default=False,
        description="drop the connection after the request was applied, losing only the answer",
    )

    def matches(self, client_id: str | None, method: str, path: str) -> bool:
        if self.client_id is not None and self.client_id != client_id:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or re.search(self.path, path) is not None


@dataclass
class Decision:
    """What the fault layer does to one request."""

    delay: float = 0.0
    reject_status: int | None = None  # 429 or 5xx answered instead of the real response
    retry_after: int | None = None  # None on a bare 429
    drop: Literal["before", "after"] | None = None


@dataclass
class _Bucket:
    level: float = 0.0
    updated: float = field(default_factory=time.monotonic)


class FaultSet:
    """The active rules and their counters and buckets."""

    def __init__(self, seed: int = 0) -> None:
        self._rules: list[FaultRule] = []
        self._buckets: dict[tuple[int, str | None], _Bucket] = {}
        self._lock = threading.Lock()
        self._random = random.Random(seed)

    @property
    def rules(self) -> list[FaultRule]:
        return list(self._rules)

    def add(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._buckets.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        return [rule.model_dump(exclude_defaults=True) for rule in self._rules]

    def decide(self, client_id: str | None, method: str, path: str) -> Decision:
        decision = Decision()
        with self._lock:
            for index, rule in enumerate(self._rules):
                if not rule.matches(client_id, method, path):
                    continue
                if rule.latency_ms or rule.jitter_ms:
                    jitter = self._random.uniform(0, rule.jitter_ms)
                    decision.delay += (rule.latency_ms + jitter) / 1000
                if decision.reject_status is None and rule.rate_per_second is not None:
                    wait = self._take(index, client_id, rule)
                    if wait is not None:
                        decision.reject_status = 429
                        if not rule.bare_429:
                            decision.retry_after = max(1, math.ceil(wait))
                if decision.reject_status is None and decision.drop is None:
                    if rule.drop_next > 0:
                        rule.drop_next -= 1
                        decision.drop = "after" if rule.drop_after_apply else "before"
                    elif rule.drop_rate and self._random.random() < rule.drop_rate:
                        decision.drop = "after" if rule.drop_after_apply else "before"
                if decision.reject_status is None and decision.drop is None:
                    if rule.fail_next > 0:
                        rule.fail_next -= 1
                        decision.reject_status = rule.error_status
                    elif rule.error_rate and self._random.random() < rule.error_rate:
                        decision.reject_status = rule.error_status
        return decision

    def _take(self, index: int, client_id: str | None, rule: FaultRule) -> float | None:
        """Leaky bucket: add one request; None if it fits, else seconds until it would."""
        assert rule.rate_per_second is not None
        key = (index, client_id if rule.client_id is None else rule.client_id)
        bucket = self._buckets.setdefault(key, _Bucket())
        now = time.monotonic()
        bucket.level = max(0.0, bucket.level - (now - bucket.updated) * rule.rate_per_second)
        bucket.updated = now
        if bucket.level + 1 <= rule.burst:
            bucket.level += 1
            return None
        return (bucket.level + 1 - rule.burst) / rule.rate_per_second
