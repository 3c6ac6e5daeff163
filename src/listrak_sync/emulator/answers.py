"""Answers in the order requests arrived, while some requests wait for a batched commit.

A request whose write is held back for a batch (``sms/batch.py``) is answered only once the
batch committed. A request that arrived after it must not be answered first: a one-at-a-time
server would have answered the earlier request before even reading the later one, and clients
act on the order they see. The SMS sync stops at the first "paused" and cancels its other calls,
so a 401 that overtook the batch's 201s made it count as refused a create that Listrak had
applied (the reverted batch of 2026-12-03, ``tests/sync/sms/test_paused.py``).

So every Listrak request takes a ticket when it arrives (``FaultMiddleware``), and before its
answer (a response, a fault's 429 or 5xx, a dropped connection) waits until every request
decided before it was answered. The order is that of the decisions, not of arrival: a request
is decided once its body is in (``routing.py`` checks the integration again then), and one that
arrived first may still be reading its body when a later one is decided. With nothing held
back there is nothing to wait for.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar, Token

__all__ = ["AnswerOrder", "Ticket"]


class Ticket:
    """One request's place in the order: whether it holds, and who it must wait for."""

    __slots__ = ("done", "earlier", "order", "reset")

    def __init__(self, order: AnswerOrder) -> None:
        self.order = order
        self.done: asyncio.Future[None] | None = None  # set when this request holds
        self.earlier: tuple[asyncio.Future[None], ...] = ()  # held before this one held
        self.reset: Token[Ticket | None] | None = None

    async def wait_for_earlier(self) -> None:
        """Return once every request decided before this one answered.

        A request that holds waits for those that held before it did. Any other request was
        decided just before its answer, so it waits for every request holding now: they were
        decided earlier (or, rarely, in the same few turns of the loop; waiting for them too
        only delays this answer, it never answers anything out of order).
        """
        earlier = self.earlier if self.done is not None else tuple(self.order.held_answers)
        if earlier:
            await asyncio.wait(earlier)


_current: ContextVar[Ticket | None] = ContextVar("listrak_emulator_ticket", default=None)


class AnswerOrder:
    """The requests of one emulator whose answers are held back (see the module doc)."""

    def __init__(self) -> None:
        self._held: list[asyncio.Future[None]] = []

    @property
    def held(self) -> int:
        """How many requests wait for a batch right now."""
        return len(self._held)

    @property
    def held_answers(self) -> list[asyncio.Future[None]]:
        return self._held

    def arrive(self) -> Ticket:
        """A ticket for a request that just arrived (on the event loop)."""
        ticket = Ticket(self)
        ticket.reset = _current.set(ticket)
        return ticket

    def hold(self) -> None:
        """Say that the current request's answer waits for a batch: later ones wait for it."""
        ticket = _current.get()
        if ticket is None or ticket.done is not None:
            return
        ticket.earlier = tuple(self._held)
        ticket.done = asyncio.get_running_loop().create_future()
        self._held.append(ticket.done)

    def finish(self, ticket: Ticket) -> None:
        """The request answered (or gave up): release whoever waits for it."""
        if ticket.reset is not None:
            _current.reset(ticket.reset)
        if ticket.done is not None:
            self._held.remove(ticket.done)
            if not ticket.done.done():
                ticket.done.set_result(None)
