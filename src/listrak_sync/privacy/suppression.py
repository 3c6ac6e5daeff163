"""The forgotten set as plans and syncs consult it: is this audience key a forgotten person?

Audience keys arrive normalised (emails trimmed and lower-cased, phones in E.164), exactly as
``forget`` hashed them, so membership is one keyed hash and a set lookup per row. With no
forget run in the project there is no salt, and nothing is hashed at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .journal import ForgetJournal
from .keyed_hash import KeyedHasher, load_salt

__all__ = ["ForgottenSet", "forgotten_set"]


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
