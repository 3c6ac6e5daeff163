"""A lean HTTP/1.1 keep-alive client for the API calls: a few streams, no per-request objects.

httpx2 spends about a millisecond of CPU per request on this machine — most of it in the
connection pool scanning every idle connection's socket before each request and after each
answer, and in building URL, request and response objects — which made the client, not the
network, the bound of per-contact SMS syncs (benchmarks/README.md, "SMS client CPU"). The API
calls need none of that: one origin, small JSON bodies, answers read whole. This client keeps a
stack of idle connections per origin, writes the request line and headers in one buffer and
reads the answer with ``Content-Length`` or chunked framing.

Failures are raised as the httpx2 exceptions the session already classifies (connect error or
timeout, read or write timeout, dropped connection), so retries, "maybe applied" and the
"cannot reach" message are decided exactly as before. Token requests and any injected
``transport`` (tests' ASGI and mock transports) still go through httpx2.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from json import loads
from typing import Any
from urllib.parse import urlsplit

import httpx2

__all__ = ["Wire", "WireResponse"]

# An idle connection older than this is closed rather than reused: servers drop idle
# connections after a few seconds (uvicorn after 5), and a request written into a connection the
# server is closing is lost as "connection dropped". httpx closes them after 5 s too.
_KEEPALIVE_EXPIRY = 4.0
_MAX_HEADER_BYTES = 64 * 1024


@dataclass(frozen=True)
class WireResponse:
    """What the session reads of an answer (the names of httpx2's ``Response``)."""

    status_code: int
    headers: Mapping[str, str]  # lower-case names
    content: bytes

    @property
    def reason_phrase(self) -> str:
        try:
            return HTTPStatus(self.status_code).phrase
        except ValueError:
            return ""

    def json(self) -> Any:
        return loads(self.content)


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0

    def reusable(self, now: float) -> bool:
        # A server that closed the connection while it was idle has fed EOF by now.
        return (
            not self.reader.at_eof()
            and not self.writer.is_closing()
            and now - self.idle_since < _KEEPALIVE_EXPIRY
        )

    def close(self) -> None:
        self.writer.close()


@dataclass
class _Origin:
    host: str
    port: int
    tls: bool
    host_header: bytes
    idle: list[_Connection] = field(default_factory=list)


class Wire:
    """HTTP/1.1 requests to a few origins, with keep-alive connections."""

    def __init__(
        self,
        *,
        timeout: float,
        connect_timeout: float,
        max_idle: int,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._max_idle = max_idle
        self._ssl_context = ssl_context
        self._origins: dict[str, tuple[_Origin, str]] = {}
        self._closed = False

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str],
        content: AsyncIterator[bytes] | None = None,
    ) -> WireResponse:
        origin, target = self._split(url)
        if params:
            # httpx2's own encoding, so a query reads the same whichever client sent it.
            target += "?" + str(httpx2.QueryParams(dict(params)))
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        if content is None and method in ("POST", "PUT", "PATCH"):
            lines += "Content-Length: 0\r\n"
        head_bytes = b"".join(
            (
                f"{method} {target} HTTP/1.1\r\nHost: ".encode(),
                origin.host_header,
                b"\r\n",
                lines.encode(),
                b"\r\n",
            )
        )
        connection = await self._connection(origin, url)
        try:
            response = await self._exchange(connection, method, head_bytes, content, url)
        except BaseException:
            connection.close()
            raise
        if response[1]:
            connection.idle_since = time.monotonic()
            if len(origin.idle) < self._max_idle and not self._closed:
                origin.idle.append(connection)
            else:
                connection.close()
        else:
            connection.close()
        return response[0]

    async def aclose(self) -> None:
        self._closed = True
        for origin, _ in self._origins.values():
            for connection in origin.idle:
                connection.close()
            origin.idle.clear()

    def _split(self, url: str) -> tuple[_Origin, str]:
        # The session's URLs share a few prefixes; parse each base once.
        scheme_end = url.index("://") + 3
        path_start = url.find("/", scheme_end)
        base = url if path_start < 0 else url[:path_start]
        target = "/" if path_start < 0 else url[path_start:]
        known = self._origins.get(base)
        if known is None:
            parts = urlsplit(base)
            tls = parts.scheme == "https"
            host = parts.hostname or ""
            port = parts.port or (443 if tls else 80)
            default = (tls and port == 443) or (not tls and port == 80)
            header = host if default else f"{host}:{port}"
            known = (_Origin(host, port, tls, header.encode("idna")), base)
            self._origins[base] = known
        return known[0], target

    async def _connection(self, origin: _Origin, url: str) -> _Connection:
        now = time.monotonic()
        while origin.idle:
            connection = origin.idle.pop()
            if connection.reusable(now):
                return connection
            connection.close()
        context: ssl.SSLContext | None = None
        if origin.tls:
            context = self._ssl_context or httpx2.create_ssl_context()
        try:
            async with asyncio.timeout(self._connect_timeout):
                reader, writer = await asyncio.open_connection(
                    origin.host,
                    origin.port,
                    ssl=context,
                    server_hostname=origin.host if context else None,
                    limit=_MAX_HEADER_BYTES,
                )
        except TimeoutError:
            raise httpx2.ConnectTimeout(f"connecting to {url} timed out") from None
        except OSError as exc:
            raise httpx2.ConnectError(str(exc) or type(exc).__name__) from exc
        return _Connection(reader, writer)

    async def _exchange(
        self,
        connection: _Connection,
        method: str,
        head: bytes,
        content: AsyncIterator[bytes] | None,
        url: str,
    ) -> tuple[WireResponse, bool]:
        """Send the request and read the answer; also whether the connection can be reused."""
        writer, reader = connection.writer, connection.reader
        try:
            if content is None:
                writer.write(head)
            else:
                first = True
                async for chunk in content:
                    # Headers and a small body leave in one segment.
                    writer.write(head + chunk if first else chunk)
                    first = False
                    if writer.transport.get_write_buffer_size() > 1 << 20:
                        async with asyncio.timeout(self._timeout):
                            await writer.drain()
                if first:
                    writer.write(head)
            if writer.transport.get_write_buffer_size():
                async with asyncio.timeout(self._timeout):
                    await writer.drain()
        except TimeoutError:
            raise httpx2.WriteTimeout(f"sending to {url} timed out") from None
        except OSError as exc:
            raise httpx2.WriteError(str(exc) or type(exc).__name__) from exc
        try:
            async with asyncio.timeout(self._timeout):
                return await _read_response(reader, method)
        except TimeoutError:
            raise httpx2.ReadTimeout(f"no answer from {url} in time") from None
        except asyncio.IncompleteReadError:
            raise httpx2.RemoteProtocolError(
                "Server disconnected without sending a complete response."
            ) from None
        except asyncio.LimitOverrunError:
            raise httpx2.RemoteProtocolError("response headers too long") from None
        except (ValueError, IndexError) as exc:
            raise httpx2.RemoteProtocolError(f"malformed response: {exc}") from None
        except OSError as exc:
            raise httpx2.ReadError(str(exc) or type(exc).__name__) from exc


async def _read_response(reader: asyncio.StreamReader, method: str) -> tuple[WireResponse, bool]:
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head[:-4].decode("latin-1").split("\r\n")
        version, status_text = lines[0].split(" ", 2)[:2]
        status = int(status_text)
        if not version.startswith("HTTP/1."):
            raise ValueError(f"unsupported protocol {version!r}")
        if 100 <= status < 200 and status != 101:
            continue  # an interim answer (100 Continue); the real one follows
        break
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    keep = version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
    if method == "HEAD" or status in (204, 304):
        body = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    else:
        body = await reader.read()  # until the server closes
        keep = False
    return WireResponse(status, headers, body), keep


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            # Trailers, if any, end with an empty line.
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
