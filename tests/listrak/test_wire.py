"""The client's wire (aiohttp under httpx2's types): proxies, timeouts, the deprecated http2,
and API calls sent directly over it exactly as httpx2 would have built them."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import socket

import httpx2
import pytest

from listrak_sync.listrak import (
    ClientSettings,
    ListrakClient,
    RetryPolicy,
    SmsContact,
    TransportError,
)
from listrak_sync.listrak._aiohttp import AiohttpTransport
from tests.conftest import EMAIL_CLIENT, SMS_CLIENT

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


class _Relay(httpx2.AsyncBaseTransport):
    """Hands httpx2's requests to an aiohttp transport: the session then builds them through
    httpx2 (as with any test transport) while the bytes still go over aiohttp."""

    def __init__(self) -> None:
        self._wire = AiohttpTransport(max_connections=4)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        return await self._wire.handle_async_request(request)

    async def aclose(self) -> None:
        await self._wire.aclose()


async def _calls_as_received(*, relay: bool, cookie: bool) -> tuple[list[object], list[str]]:
    """What a loopback server received for a few SMS calls, and what the calls returned. Its
    answers are gzip-encoded; with ``cookie`` the first API answer sets a cookie."""
    heads: list[tuple[str, list[str], bytes]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while head := await reader.readuntil(b"\r\n\r\n"):
                line, *fields = head.decode("latin-1").rstrip("\r\n").split("\r\n")
                length = next(
                    (int(f[15:]) for f in fields if f.lower().startswith("content-length:")), 0
                )
                body = await reader.readexactly(length)
                # The two servers' ports differ; everything else must not.
                fields = ["Host: server" if f.startswith("Host:") else f for f in fields]
                heads.append((line, fields, body))
                extra = ""
                if "/OAuth2/Token" in line:
                    doc: object = {"access_token": "tok", "expires_in": 3600}
                elif line.startswith("GET"):
                    doc = {"status": 200, "data": [{"phoneNumber": "+12155550100"}]}
                    if cookie and len(heads) == 2:
                        extra = "Set-Cookie: affinity=a1; Path=/\r\n"
                else:
                    doc = {"status": 201, "resourceId": "x"}
                packed = gzip.compress(json.dumps(doc).encode())
                writer.write(
                    f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{extra}"
                    f"Content-Encoding: gzip\r\nContent-Length: {len(packed)}\r\n\r\n".encode()
                    + packed
                )
                await writer.drain()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = ClientSettings.for_base_url(f"http://127.0.0.1:{port}", retry=FAST_RETRY)
    client = ListrakClient(
        sms=credentials(SMS_CLIENT), settings=settings, transport=_Relay() if relay else None
    )
    async with server, client:
        found = [c.phone_number async for c in client.sms.contacts(101, 5001)]
        contact = SmsContact(phone_number="+12155550101")
        created = await client.sms.create_contact(101, 5001, contact)
        subscribed = await client.sms.subscribe(101, "+12155550102", 5001)
    return [(line, fields, body) for line, fields, body in heads], [
        *found,
        str(created),
        str(subscribed),
    ]


@pytest.mark.parametrize("cookie", [False, True], ids=["no cookie", "cookie set"])
async def test_the_wire_sends_and_reads_what_httpx2_would(cookie: bool) -> None:
    # API calls go to the aiohttp wire directly, with headers merged once; through httpx2's
    # own request building (any other transport) the server must see the very same requests.
    direct, direct_results = await _calls_as_received(relay=False, cookie=cookie)
    through, through_results = await _calls_as_received(relay=True, cookie=cookie)
    assert direct == through
    assert direct_results == through_results == ["+12155550100", "created", "subscribed"]
    lines = [head[0] for head in direct]
    assert lines[1].startswith("GET /sms/v1/ShortCode/101/PhoneList/5001/Contact?")
    post = dict(field.split(": ", 1) for field in direct[2][1])
    assert post["Authorization"] == "Bearer tok"
    assert post["Content-Type"] == "application/json"
    assert int(post["Content-Length"]) == len(direct[2][2])
    bodyless = dict(field.split(": ", 1) for field in direct[3][1])
    assert bodyless["Content-Length"] == "0"
    assert ("Cookie" in post) is cookie
    assert ("Cookie" in bodyless) is cookie
