"""Connection guards for ``serve``: a deadline for request headers and a cap on open connections.

uvicorn closes idle keep-alive connections but gives a client all the time it wants to send a
request's headers, and accepts every connection (its ``limit_concurrency`` answers 503 only once
a request's headers are in). A client trickling header bytes, or opening hundreds of connections
that never send anything, would hold the server's sockets and memory indefinitely. So each
connection must deliver complete headers within ``header_timeout`` of opening (or of its previous
response, when kept alive) or it is closed; and a connection beyond ``max_connections`` gets an
immediate 503 and is closed. The body's own deadline is the app's (``app._read``).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["guarded_protocol"]

_BUSY = json.dumps({"success": False, "error": "too many connections; try again"}).encode()
_BUSY_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
    b"connection: close\r\nretry-after: 1\r\ncontent-length: "
    + str(len(_BUSY)).encode()
    + b"\r\n\r\n"
    + _BUSY
)


def guarded_protocol(
    *,
    header_timeout: float,
    max_connections: int,
    on_event: Callable[[str], None],
) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with the guards; ``on_event`` hears ``"header_timeout"``
    and ``"connection_refused"`` (for metrics and logs).

    httptools (llhttp, in C) rather than h11: parsing a request costs a fraction of h11's
    pure-Python parsing and header validation, which was the largest part of serve's CPU per
    event."""

    class GuardedHttpToolsProtocol(HttpToolsProtocol):
        _header_deadline: asyncio.TimerHandle | None = None
        # A request begun (its first bytes parsed) whose headers are not complete yet.
        _partial = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                transport.write(_BUSY_RESPONSE)
                transport.close()
                on_event("connection_refused")
                return
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._partial = True

        def on_headers_complete(self) -> None:
            self._partial = False
            self._disarm()  # the headers are in: the body has the app's deadline
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            # Kept alive with every request received answered: the next request's headers
            # have the same deadline. (A pipelined request already started has its headers.)
            if not self.transport.is_closing() and self.cycle.response_complete:
                self._arm()

        def _arm(self) -> None:
            self._disarm()
            self._header_deadline = self.loop.call_later(header_timeout, self._too_slow)

        def _disarm(self) -> None:
            if self._header_deadline is not None:
                self._header_deadline.cancel()
                self._header_deadline = None

        def _too_slow(self) -> None:
            self._header_deadline = None
            if self.transport.is_closing():
                return
            # Started a request without finishing its headers: say so (408), then close.
            # Idle connections (no byte at all) are simply closed.
            if self._partial:
                self.transport.write(_timeout_response())
            self.transport.close()
            on_event("header_timeout")

    return GuardedHttpToolsProtocol


def _timeout_response() -> bytes:
    body = json.dumps({"success": False, "error": "request headers took too long"}).encode()
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())
    return (
        b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
        + f"date: {date}\r\ncontent-length: {len(body)}\r\n\r\n".encode()
        + body
    )
