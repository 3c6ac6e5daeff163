"""The lean HTTP/1.1 client of the API calls, against small real servers on loopback."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx2
import pytest

from listrak_sync.listrak._transport import transport_reason
from listrak_sync.listrak._wire import Wire

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"a": true}'


@asynccontextmanager
async def _server(handler: Handler) -> AsyncIterator[tuple[str, list[int]]]:
    """A loopback server running ``handler`` per connection; yields its URL and a one-item
    list counting the connections it accepted."""
    accepted = [0]

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted[0] += 1
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}", accepted


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    length = 0
    for line in head.split("\r\n")[1:]:
        if line.lower().startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    body = await reader.readexactly(length) if length else b""
    return head, body


def _wire(timeout: float = 5.0) -> Wire:
    return Wire(timeout=timeout, connect_timeout=2.0, max_idle=4)


async def test_requests_reuse_one_connection_and_send_headers_and_body() -> None:
    seen: list[tuple[str, bytes]] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            seen.append(await _read_request(reader))
            writer.write(OK)

    async with _server(handler) as (url, accepted):
        wire = _wire()
        for i in range(20):
            chunks = _chunks(b'{"n":%d}' % i)
            answer = await wire.request(
                "POST",
                f"{url}/sms/v1/x",
                params={"cursor": "a b+c", "flag": True},
                headers={"Content-Type": "application/json", "Content-Length": "7"},
                content=chunks,
            )
            assert answer.status_code == 200
            assert answer.json() == {"a": True}
            assert answer.reason_phrase == "OK"
        await wire.aclose()
    assert accepted[0] == 1
    head, body = seen[3]
    assert head.startswith("POST /sms/v1/x?cursor=a+b%2Bc&flag=true HTTP/1.1\r\n")
    assert f"Host: {url.removeprefix('http://')}\r\n" in head
    assert body == b'{"n":3}'


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_chunked_and_close_delimited_answers() -> None:
    answers = [
        b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"a"\r\n'
        b"5;ext=1\r\n: 1}\r\n\r\n0\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}",
        b'HTTP/1.0 429 Too Many Requests\r\nRetry-After: 3\r\n\r\n{"error":"x"}',
    ]

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while answers:
            await _read_request(reader)
            writer.write(answers.pop(0))
            if not answers:
                await writer.drain()
                writer.close()  # the last answer is delimited by the close

    async with _server(handler) as (url, accepted):
        wire = _wire()
        first = await wire.request("GET", f"{url}/a", headers={})
        assert first.json() == {"a": 1}
        second = await wire.request("DELETE", f"{url}/b", headers={})
        assert (second.status_code, second.content) == (201, b"{}")
        third = await wire.request("GET", f"{url}/c", headers={})
        assert third.status_code == 429
        assert third.headers["retry-after"] == "3"
        assert third.json() == {"error": "x"}
        await wire.aclose()
    assert accepted[0] == 1


async def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(OK)
        await writer.drain()
        # Keep-alive answered, then closed while idle (as servers do after a few seconds).

    async with _server(handler) as (url, accepted):
        wire = _wire()
        for _ in range(3):
            assert (await wire.request("GET", f"{url}/a", headers={})).status_code == 200
            await asyncio.sleep(0.05)  # the close reaches the client
        await wire.aclose()
    assert accepted[0] == 3


async def test_failures_are_the_httpx2_errors_the_session_classifies() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    wire = _wire(timeout=0.2)
    with pytest.raises(httpx2.ConnectError) as refused:
        await wire.request("GET", f"http://127.0.0.1:{closed_port}/a", headers={})
    assert transport_reason(refused.value) == "connection refused"

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await asyncio.sleep(5)

    async with _server(silent) as (url, _):
        with pytest.raises(httpx2.ReadTimeout) as slow:
            await wire.request("GET", f"{url}/a", headers={})
        assert transport_reason(slow.value) == "timeout"

    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{")
        await writer.drain()

    async with _server(drop) as (url, _):
        with pytest.raises(httpx2.RemoteProtocolError) as dropped:
            await wire.request("GET", f"{url}/a", headers={})
        assert transport_reason(dropped.value) == "connection dropped"
    await wire.aclose()
