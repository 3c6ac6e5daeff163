"""Create Contact's common case, committed for many concurrent requests in one transaction.

A Create Contact for a number nothing is known about writes four plain INSERTs (contact,
person, profile values, subscription). DuckDB spends most of a millisecond planning each
statement, so one create cost 4–7 ms of CPU and capped SMS benchmarks at about 200 creates/s.
Here the creates that arrive within a few milliseconds queue their rows, and one flush inserts
each table's rows from one Arrow table: a few statements for the whole batch.

Nothing observable changes; the emulator still answers like a server that takes one request at
a time, in arrival order:

- Each create is decided when it arrives (integration, validation, the clock), as before. What
  it cannot know without the database, whether the number exists, the flush finds out: a batch
  that a primary key refuses is rolled back whole and its requests take the one-request path
  (``contacts.py``) in arrival order, each seeing what the earlier ones wrote.
- Nothing else sees the database while rows are held back: every other use of it (any request,
  a pause, the admin surface, a reset) commits the batch first (``EmulatorState.before_access``).
  A create for a number already held back does the same, then takes the one-request path.
- A request is answered only after its batch committed, and no request that arrived later is
  answered before it (``answers.py``): the reverted first batch answered a later request "paused"
  before the earlier ones' 201s, and the SMS sync, which stops at the first "paused", counted
  applied creates as refused.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from ..state import EmulatorState

__all__ = ["BATCH_ENV", "CreateBatcher", "CreateRows"]

# A batch commits this long after its first create, or once this many joined it. DuckDB's cost
# is per statement (a flush is about ten), so the batch should be as large as the requests in
# flight; under load clients send their next requests spread out, and committing after a few
# quiet turns of the loop made batches of 5 with 32 in flight (about 2 ms of CPU per create,
# against 1.5 ms with this window). The window is latency, not CPU: a lone create waits it out.
_WINDOW_SECONDS = 0.005
_MAX_BATCH = 512

# "0" turns batching off (every create takes the one-request path): the baseline that
# benchmarks/bench_emulator_sms.py measures in the same run.
BATCH_ENV = "LISTRAK_EMULATOR_BATCH_WRITES"

_PERSON_COLUMNS = ("phone", "email_address", "first_name", "last_name", "birthday", "postal_code")
_SUBSCRIPTION_COLUMNS = ("list", "phone", "state", "subscribed", "pending", "double", "age")


@dataclass(frozen=True)
class CreateRows:
    """One blind Create Contact's rows: nothing about ``phone`` existed."""

    sender_code_id: int
    phone: str
    at: datetime
    person: dict[str, Any]  # person column → value (absent columns stay NULL)
    values: list[tuple[int, str]]  # (field id, value) of custom profile values
    subscription: dict[str, Any]  # subscriptions.new_subscription


@dataclass
class _Queued:
    rows: CreateRows
    one_request: Callable[[], None]  # the exact decision, raising the request's refusal
    answer: asyncio.Future[None]
    loop: asyncio.AbstractEventLoop
    thread: int  # the loop's


class CreateBatcher:
    """Holds back the blind creates of one emulator state (see the module doc)."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self._queued: list[_Queued] = []
        self._phones: set[str] = set()
        self._timer: asyncio.TimerHandle | None = None
        self.enabled = os.environ.get(BATCH_ENV, "1").strip() != "0"
        state.before_access(self.flush)

    async def create(self, rows: CreateRows, one_request: Callable[[], None]) -> None:
        """Apply a create whose rows assume nothing about the number exists; raises what
        ``one_request`` (the exact one-request path) raises when that is wrong."""
        if not self.enabled:
            one_request()
            return
        if rows.phone in self._phones:
            # The same number twice: the second must see what the first wrote.
            self.flush()
            one_request()
            return
        loop = asyncio.get_running_loop()
        queued = _Queued(rows, one_request, loop.create_future(), loop, threading.get_ident())
        self.state.answers.hold()
        with self.state.lock:
            self._queued.append(queued)
            self._phones.add(rows.phone)
        if len(self._queued) >= _MAX_BATCH:
            self.flush()
        elif self._timer is None:
            self._timer = loop.call_later(_WINDOW_SECONDS, self.flush)
        await asyncio.shield(queued.answer)

    def flush(self) -> None:
        """Commit every held-back create now (any thread); their answers follow."""
        if not self._queued:
            return
        with self.state.lock:
            if self._timer is not None:
                # Cancelling is for the loop's thread only; a late timer finds nothing to do.
                if self._queued[0].thread == threading.get_ident():
                    self._timer.cancel()
                self._timer = None
            queued, self._queued = self._queued, []
            self._phones = set()
            outcomes: list[BaseException | None]
            try:
                if _apply(self.state, [q.rows for q in queued]):
                    outcomes = [None] * len(queued)
                else:
                    outcomes = [_one_request(q) for q in queued]
            except BaseException as exc:  # a broken database: every request of the batch fails
                outcomes = [exc] * len(queued)
        here = threading.get_ident()
        for q, outcome in zip(queued, outcomes, strict=True):
            if q.thread == here:
                _settle(q.answer, outcome)
            else:
                q.loop.call_soon_threadsafe(_settle, q.answer, outcome)


def _one_request(queued: _Queued) -> BaseException | None:
    try:
        queued.one_request()
    except Exception as exc:  # the request's own answer (a ListrakHTTPError) or a 500
        return exc
    return None


def _settle(answer: asyncio.Future[None], outcome: BaseException | None) -> None:
    if answer.done():  # the request was cancelled (its client went away)
        return
    if outcome is None:
        answer.set_result(None)
    else:
        answer.set_exception(outcome)


def _apply(state: EmulatorState, rows: list[CreateRows]) -> bool:
    """Insert the batch in one transaction; False (nothing written) if a key refused it."""
    contacts = pa.table(
        {
            "sender_code_id": pa.array([r.sender_code_id for r in rows], pa.int32()),
            "phone": pa.array([r.phone for r in rows], pa.string()),
            "create_date": pa.array([r.at for r in rows], pa.timestamp("us")),
        }
    )
    people = pa.table(
        {
            column: pa.array(
                [r.phone if column == "phone" else r.person.get(column) for r in rows],
                pa.timestamp("us") if column == "birthday" else pa.string(),
            )
            for column in _PERSON_COLUMNS
        }
    )
    values = pa.table(
        {
            "phone": pa.array([r.phone for r in rows for _ in r.values], pa.string()),
            "field_id": pa.array([f for r in rows for f, _ in r.values], pa.int32()),
            "value": pa.array([v for r in rows for _, v in r.values], pa.string()),
        }
    )
    subscriptions = pa.table(
        {column: [r.subscription[column] for r in rows] for column in _SUBSCRIPTION_COLUMNS}
    )
    with state.held_back_cursor() as cur:
        for name, table in (
            ("batch_contacts", contacts),
            ("batch_people", people),
            ("batch_values", values),
            ("batch_subscriptions", subscriptions),
        ):
            cur.register(name, table)
        cur.execute("BEGIN TRANSACTION")
        try:
            cur.execute(
                "INSERT INTO sms_contact SELECT sender_code_id, phone, create_date, 'Active', "
                "FALSE, NULL, NULL FROM batch_contacts"
            )
            cur.execute(
                f"INSERT INTO sms_person ({', '.join(_PERSON_COLUMNS)}) SELECT * FROM batch_people"
            )
            if values.num_rows:
                cur.execute("INSERT INTO sms_field_value SELECT * FROM batch_values")
            cur.execute(
                "INSERT INTO sms_subscription SELECT list, phone, state, subscribed, NULL, "
                "pending, double, age FROM batch_subscriptions"
            )
        except duckdb.ConstraintException:
            cur.execute("ROLLBACK")
            return False
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        cur.execute("COMMIT")
    return True
