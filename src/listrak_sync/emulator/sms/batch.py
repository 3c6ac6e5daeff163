"""The common case of Create Contact, Subscribe and Unsubscribe, committed for many concurrent
requests in one transaction.

A Create Contact for a number nothing is known about writes four plain INSERTs (contact,
person, profile values, subscription); a Subscribe of an active contact to a list it has no
subscription to, one INSERT; an Unsubscribe, a lookup and an UPDATE. DuckDB spends most of a
millisecond planning each statement, so one create cost 4–7 ms of CPU and capped SMS benchmarks
at about 200 creates/s. Here the writes that arrive within a few milliseconds queue their rows,
and one flush writes each table's rows from one Arrow table: a few statements for the whole
batch.

Nothing observable changes; the emulator still answers like a server that takes one request at
a time, in arrival order:

- Each write is decided when it arrives (integration, validation, the clock), as before. What
  it cannot know without the database the batch finds out, in one statement for all its
  numbers: whether the number has rows (a create), whether it is an active contact with no
  subscription to the list (a subscribe) or a contact on the list (an unsubscribe). A write
  that its number's rows do not allow blind (a number that exists, a refusal, a re-subscribe)
  writes nothing in the batch and takes the one-request path (``contacts.py``,
  ``subscriptions.py``) once the others are written (with a state file, a create for a number
  that exists makes the primary keys refuse the batch, which is rolled back whole and every
  request takes that path, in arrival order). Every request of a batch is for a different
  number and reads and writes only that number's rows (the sender codes, lists and fields they
  read are not written by them), so deciding it after the others is deciding it in its turn.
- Nothing else sees the database while rows are held back: every other use of it (any request,
  a pause, the admin surface, a reset) commits the batch first (``EmulatorState.before_access``).
  A write for a number already held back does the same, then takes the one-request path: a
  subscribe right after the create of its number, or an unsubscribe right after its
  subscribe, sees the row the earlier request wrote.
- A request is answered only once its write is decided, and no request that arrived later is
  answered before it (``answers.py``): the reverted first batch answered a later request "paused"
  before the earlier ones' 201s, and the SMS sync, which stops at the first "paused", counted
  applied creates as refused.

Deciding costs one statement per batch (which of its numbers have rows), writing about ten
(DuckDB's cost is per statement, about a millisecond each, whatever the rows). So without a state
file a batch is only decided when its window closes, its requests are answered, and the decided
rows wait in memory until anything else uses the database (which writes them first, as above) or
2,000 of them wait: the flush then costs a fraction of a millisecond per write instead of 1–2 ms
with the batches of 8–12 that concurrent clients make. Nothing can refuse them in between, as
nothing else writes the database without writing them first; only a broken database could, and
then the request that found it broken fails instead of the answered writes. With a state file,
a write is answered once committed, as the file is what a restart keeps.
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

__all__ = ["BATCH_ENV", "CreateRows", "SubscribeRows", "UnsubscribeRows", "WriteBatcher"]

# A batch is decided (with a state file, committed) this long after its first write, or once
# this many joined it. DuckDB's cost is per statement (a flush is about ten), so the batch
# should be as large as the requests in flight; under load clients send their next requests
# spread out, and committing after a few quiet turns of the loop made batches of 5 with 32 in
# flight (about 2 ms of CPU per create, against 1.5 ms with this window). The window is
# latency, not CPU: a lone write waits it out.
_WINDOW_SECONDS = 0.005
_MAX_BATCH = 512
# Decided writes waiting in memory are written once this many wait (or anything reads).
_PERSIST_ROWS = 2000

# "0" turns batching off (every write takes the one-request path): the baseline that
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


@dataclass(frozen=True)
class SubscribeRows:
    """One blind Subscribe: ``phone`` is an active, opted-in contact of the sender code with no
    subscription to the list, if the flush finds it so."""

    sender_code_id: int
    phone: str
    subscription: dict[str, Any]  # subscriptions.new_subscription


@dataclass(frozen=True)
class UnsubscribeRows:
    """One blind Unsubscribe: ``phone`` is a contact of the sender code subscribed or pending on
    the list, if the flush finds it so."""

    sender_code_id: int
    phone: str
    phone_list_id: int
    at: datetime


_Rows = CreateRows | SubscribeRows | UnsubscribeRows


@dataclass
class _Queued:
    rows: _Rows
    one_request: Callable[[], None]  # the exact decision, raising the request's refusal
    answer: asyncio.Future[None]
    loop: asyncio.AbstractEventLoop
    thread: int  # the loop's


class WriteBatcher:
    """Holds back the blind creates, subscribes and unsubscribes of one emulator state (see the
    module doc)."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self._queued: list[_Queued] = []
        self._decided: list[_Rows] = []  # answered, not yet written (in memory only)
        self._phones: set[str] = set()  # of queued and decided writes
        self._timer: asyncio.TimerHandle | None = None
        self.enabled = os.environ.get(BATCH_ENV, "1").strip() != "0"
        # Without a state file nothing outlives the process, so a decided write may wait in
        # memory until something reads the database; with one, a write is answered only once
        # committed, as the file is what a restart (or a crash) keeps.
        self._defer = state.state_file is None
        state.before_access(self.flush)

    async def write(self, rows: _Rows, one_request: Callable[[], None]) -> None:
        """Apply a blind write (see :class:`CreateRows`, :class:`SubscribeRows`,
        :class:`UnsubscribeRows`); raises what ``one_request`` (the exact one-request path)
        raises when its assumption is wrong."""
        if not self.enabled:
            one_request()
            return
        if rows.phone in self._phones:
            # The same number twice (a create, then its subscribe, a subscribe, then its
            # unsubscribe): the second must see what the first wrote.
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
            self._window_closed()
        elif self._timer is None:
            self._timer = loop.call_later(_WINDOW_SECONDS, self._window_closed)
        await asyncio.shield(queued.answer)

    def flush(self) -> None:
        """Write everything held back now (any thread); answers of undecided writes follow."""
        if self._queued or self._decided:
            self._settle(persist=True)

    def _window_closed(self) -> None:
        if self._queued:
            self._settle(persist=not self._defer)

    def _settle(self, *, persist: bool) -> None:
        """Decide the queued writes and answer them; ``persist`` writes everything decided,
        else the applicable ones wait in memory (see ``_defer``)."""
        with self.state.lock:
            if self._timer is not None and self._queued:
                # Cancelling is for the loop's thread only; a late timer finds nothing to do.
                if self._queued[0].thread == threading.get_ident():
                    self._timer.cancel()
                self._timer = None
            queued, self._queued = self._queued, []
            outcomes: list[BaseException | None]
            try:
                if persist:
                    decided, self._decided = self._decided, []
                    self._phones = set()
                    if decided:
                        _persist(self.state, decided)
                    applied = _apply(self.state, [q.rows for q in queued]) if queued else []
                else:
                    applied = _decide(self.state, [q.rows for q in queued])
                    if applied is not None:
                        self._decided += [
                            q.rows for q, ok in zip(queued, applied, strict=True) if ok
                        ]
                if applied is None:
                    outcomes = [_one_request(q) for q in queued]
                else:
                    # Writes the batch could not apply are decided now, in their turn (see the
                    # module doc): their exact path commits what is held first.
                    outcomes = [
                        None if done else _one_request(q)
                        for q, done in zip(queued, applied, strict=True)
                    ]
                if len(self._decided) >= _PERSIST_ROWS:
                    self.flush()
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


def _apply(state: EmulatorState, rows: list[_Rows]) -> list[bool] | None:
    """Write the batch in one transaction: per request, whether it was applied (a subscribe or
    unsubscribe the numbers' rows do not allow blind is not); None (nothing written) if a key
    refused the batch."""
    creates = [r for r in rows if isinstance(r, CreateRows)]
    others = [r for r in rows if not isinstance(r, CreateRows)]
    with state.held_back_cursor() as cur:
        cur.execute("BEGIN TRANSACTION")
        try:
            if creates:
                _insert_creates(cur, creates)
            applied = _applicable(cur, others) if others else set()
            subscribes = [r for r in others if isinstance(r, SubscribeRows) and id(r) in applied]
            if subscribes:
                _insert_subscriptions(cur, [r.subscription for r in subscribes])
            unsubscribes = [
                r for r in others if isinstance(r, UnsubscribeRows) and id(r) in applied
            ]
            if unsubscribes:
                _unsubscribe(cur, unsubscribes)
        except duckdb.ConstraintException:
            cur.execute("ROLLBACK")
            return None
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        cur.execute("COMMIT")
    return [isinstance(r, CreateRows) or id(r) in applied for r in rows]


def _decide(state: EmulatorState, rows: list[_Rows]) -> list[bool]:
    """Per write, whether the blind rows apply, without writing: a create's number has no row
    in any SMS contact table; a subscribe or unsubscribe as in :func:`_applicable`."""
    creates = [r.phone for r in rows if isinstance(r, CreateRows)]
    others = [r for r in rows if not isinstance(r, CreateRows)]
    with state.held_back_cursor() as cur:
        known = _known_numbers(cur, creates) if creates else set()
        applicable = _applicable(cur, others) if others else set()
    return [
        r.phone not in known if isinstance(r, CreateRows) else id(r) in applicable for r in rows
    ]


def _known_numbers(cur: duckdb.DuckDBPyConnection, phones: list[str]) -> set[str]:
    """The numbers that have a row in a table a blind create writes (any sender code or list:
    a create for a number known elsewhere takes the exact path, which merges its profile)."""
    numbers = ", ".join("?" * len(phones))
    found = cur.execute(
        " UNION ALL ".join(
            f"SELECT phone FROM {table} WHERE phone IN ({numbers})"
            for table in ("sms_contact", "sms_person", "sms_field_value", "sms_subscription")
        ),
        phones * 4,
    ).fetchall()
    return {str(phone) for (phone,) in found}


def _persist(state: EmulatorState, rows: list[_Rows]) -> None:
    """Write decided writes. They were answered: nothing wrote their numbers' rows since,
    as every other use of the database writes them first."""
    applied = _apply(state, rows)
    if applied is None or not all(applied):
        raise RuntimeError("SMS writes held back in memory no longer apply")


def _applicable(
    cur: duckdb.DuckDBPyConnection, rows: list[SubscribeRows | UnsubscribeRows]
) -> set[int]:
    """The ids of the batch's subscribes and unsubscribes that the one-request path would apply
    as they are, from one statement: a subscribe's number is an active, opted-in contact of the
    sender code with no subscription to the list (a subscription in any state is left to the
    one-request path rather than to the primary key, which would roll the whole batch back); an
    unsubscribe's number is a contact of the sender code subscribed or pending on the list.

    The numbers go in as IN lists of constants, which DuckDB answers from the ``phone``
    indexes; a join with a registered table scans every row (6 ms at a million contacts)."""
    numbers = ", ".join("?" * len(rows))
    phones = [r.phone for r in rows]
    found = cur.execute(
        "SELECT 'contact', sender_code_id, phone, status = 'Active' AND NOT opted_out "
        f"FROM sms_contact WHERE phone IN ({numbers}) UNION ALL "
        "SELECT 'subscription', phone_list_id, phone, state <> 'Unsubscribed' "
        f"FROM sms_subscription WHERE phone IN ({numbers})",
        phones + phones,
    ).fetchall()
    contacts = {
        (int(key), str(phone)): bool(ok) for kind, key, phone, ok in found if kind == "contact"
    }
    lists = {
        (int(key), str(phone)): bool(on) for kind, key, phone, on in found if kind != "contact"
    }
    applicable: set[int] = set()
    for r in rows:
        contact = contacts.get((r.sender_code_id, r.phone))
        if isinstance(r, SubscribeRows):
            if contact and (int(r.subscription["list"]), r.phone) not in lists:
                applicable.add(id(r))
        elif contact is not None and lists.get((r.phone_list_id, r.phone)):
            applicable.add(id(r))
    return applicable


def _unsubscribe(cur: duckdb.DuckDBPyConnection, rows: list[UnsubscribeRows]) -> None:
    """Unsubscribe each row's number from its list, with its own date, in one statement."""
    table = pa.table(
        {
            "list": pa.array([r.phone_list_id for r in rows], pa.int32()),
            "phone": pa.array([r.phone for r in rows], pa.string()),
            "at": pa.array([r.at for r in rows], pa.timestamp("us")),
        }
    )
    cur.register("batch_unsubscribes", table)
    # The IN list of constants lets DuckDB find the rows from the phone index (see above).
    cur.execute(
        "UPDATE sms_subscription SET state = 'Unsubscribed', unsubscribe_date = b.at "
        "FROM batch_unsubscribes b WHERE sms_subscription.phone_list_id = b.list "
        "AND sms_subscription.phone = b.phone "
        f"AND sms_subscription.phone IN ({', '.join('?' * len(rows))})",
        [r.phone for r in rows],
    )


def _insert_creates(cur: duckdb.DuckDBPyConnection, rows: list[CreateRows]) -> None:
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
    for name, table in (
        ("batch_contacts", contacts),
        ("batch_people", people),
        ("batch_values", values),
    ):
        cur.register(name, table)
    cur.execute(
        "INSERT INTO sms_contact SELECT sender_code_id, phone, create_date, 'Active', "
        "FALSE, NULL, NULL FROM batch_contacts"
    )
    cur.execute(f"INSERT INTO sms_person ({', '.join(_PERSON_COLUMNS)}) SELECT * FROM batch_people")
    if values.num_rows:
        cur.execute("INSERT INTO sms_field_value SELECT * FROM batch_values")
    _insert_subscriptions(cur, [r.subscription for r in rows])


def _insert_subscriptions(cur: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    """Insert new subscriptions (``subscriptions.new_subscription``)."""
    table = pa.table(
        {
            column: pa.array(
                [r[column] for r in rows],
                pa.timestamp("us") if column in ("subscribed", "pending") else None,
            )
            for column in _SUBSCRIPTION_COLUMNS
        }
    )
    cur.register("batch_subscriptions", table)
    cur.execute(
        "INSERT INTO sms_subscription SELECT list, phone, state, subscribed, NULL, "
        "pending, double, age FROM batch_subscriptions"
    )
