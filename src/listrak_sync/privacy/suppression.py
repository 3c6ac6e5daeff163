"""The forgotten set as plans and syncs consult it: is this audience key a forgotten person?

Audience keys arrive normalised (emails trimmed and lower-cased, phones in E.164), exactly as
``forget`` hashed them, so membership is one keyed hash and a set lookup per row. With no
forget run in the project there is no salt, and nothing is hashed at all.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .journal import ForgetJournal
from .keyed_hash import KeyedHasher, load_salt

__all__ = ["ForgottenSet", "ForgottenWatch", "forgotten_set"]

# How stale a long-running process's view of the forgotten set may get (event service).
WATCH_SECONDS = 10.0


@dataclass(frozen=True)
class ForgottenSet:
    hasher: KeyedHasher
    hashes: frozenset[str]

    def mask(self, keys: pa.Array | pa.ChunkedArray, kind: str) -> pa.Array:
        """True for each key (``kind``: ``email`` or ``phone``) of a forgotten person."""
        digest = self.hasher.email if kind == "email" else self.hasher.phone
        return pa.array(
            [key is not None and digest(key) in self.hashes for key in keys.to_pylist()],
            pa.bool_(),
        )

    def drop_from(self, parquet: Path, kind: str) -> int:
        """Rewrite ``parquet`` (a sync's ``previous`` file, keyed by ``key``) without the rows
        of forgotten people; returns how many were dropped."""
        table = pq.read_table(parquet)
        hit = self.mask(table.column("key"), kind)
        dropped = int(pc.sum(hit).as_py() or 0)
        if dropped:
            staged = parquet.with_name(parquet.name + ".forget")
            pq.write_table(table.filter(pc.invert(hit)), staged, compression="snappy")
            os.replace(staged, parquet)
        return dropped


def forgotten_set(state_folder: Path) -> ForgottenSet | None:
    """The project's forgotten set, or None when nobody was ever forgotten."""
    salt = load_salt(state_folder, create=False)
    state = state_folder / "state.sqlite"
    if salt is None or not state.exists():
        return None
    with ForgetJournal(state) as journal:
        hashes = journal.forgotten()
    return ForgottenSet(KeyedHasher(salt), hashes) if hashes else None


class ForgottenWatch:
    """The forgotten set for a long-running process (the event service): re-read at most every
    ``WATCH_SECONDS``, so a ``forget`` run reaches it without a restart."""

    def __init__(self, state_folder: Path, *, refresh_seconds: float = WATCH_SECONDS) -> None:
        self.state_folder = state_folder
        self.refresh_seconds = refresh_seconds
        self._set: ForgottenSet | None = None
        self._read_at: float | None = None

    def _current(self) -> ForgottenSet | None:
        now = time.monotonic()
        if self._read_at is None or now - self._read_at >= self.refresh_seconds:
            self._set = forgotten_set(self.state_folder)
            self._read_at = now
        return self._set

    def email(self, address: str) -> bool:
        """Whether ``address`` (any case, surrounding spaces) belongs to a forgotten person."""
        found = self._current()
        key = address.strip().lower()
        return found is not None and found.hasher.email(key) in found.hashes
