"""The client's wire (aiohttp under httpx2's types): proxies, timeouts, the deprecated http2."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import pytest

from listrak_sync.listrak import ClientSettings, ListrakClient, RetryPolicy, TransportError
from tests.conftest import EMAIL_CLIENT

from .conftest import FAST_RETRY, credentials


def test_setting_http2_warns_that_it_is_ignored() -> None:
    with pytest.warns(FutureWarning, match="http2 is deprecated and ignored"):
        settings = ClientSettings(http2=True)
    assert settings.http2 is True
    assert ClientSettings().http2 is None


async def test_requests_go_through_the_proxy_the_environment_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A forward proxy on loopback that answers for Listrak itself; the API's host does not
    # resolve, so only the proxy can answer.
    targets: list[str] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            await _answer_all(reader, writer)

    async def _answer_all(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while head := await reader.readuntil(b"\r\n\r\n"):
            lines = head.decode("latin-1").split("\r\n")
            targets.append(lines[0])
            length = next(
                (int(line[15:]) for line in lines if line.lower().startswith("content-length:")),
                0,
            )
            await reader.readexactly(length)
            token = "/OAuth2/Token" in lines[0]
            body = (
                b'{"access_token":"tok","expires_in":3600}'
                if token
                else b'{"status":200,"data":[]}'
            )
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()

    server = await asyncio.start_server(proxy, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    settings = ClientSettings.for_base_url("http://listrak.invalid", retry=FAST_RETRY)
    client = ListrakClient(email=credentials(EMAIL_CLIENT), settings=settings)
    async with server, client:
        assert await client.email.lists() == []
    assert targets == [
        "POST http://listrak.invalid/OAuth2/Token HTTP/1.1",
        "GET http://listrak.invalid/email/v1/List HTTP/1.1",
    ]


async def test_an_answer_that_never_comes_is_a_timeout_not_a_hang() -> None:
    # A server that accepts and reads but never answers.
    silent = socket.create_server(("127.0.0.1", 0))
    port = silent.getsockname()[1]
    try:
        settings = ClientSettings.for_base_url(
            f"http://127.0.0.1:{port}",
            timeout=0.3,
            retry=RetryPolicy(attempts=2, wait_initial=0.01, wait_max=0.01, wait_jitter=0),
        )
        async with ListrakClient(email=credentials(EMAIL_CLIENT), settings=settings) as client:
            with pytest.raises(TransportError) as caught:
                await asyncio.wait_for(client.email.lists(), 30)
        assert caught.value.reason == "timeout"
    finally:
        silent.close()
