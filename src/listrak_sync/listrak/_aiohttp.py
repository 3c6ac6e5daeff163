"""``AiohttpTransport``: the client's wire, httpx2's request and response types over aiohttp.

The client builds httpx2 requests and reads httpx2 responses (its retries, error
classification and tests are written against those types), but httpx2's own connection layer
(httpcore2: a pool scan per request, anyio timeout scopes per read and write, h11 in Python)
cost about 1 ms of CPU per request, several times what the rest of a sync spends per change.
aiohttp's HTTP/1.1 client parses and writes in C and keeps a keep-alive pool, so this transport
hands it each request and wraps its answer back into an ``httpx2.Response``. Its failures are
raised as the httpx2 exceptions they correspond to, so ``_transport.transport_reason`` and the
session's "was it sent?" test keep one vocabulary. Why HTTP/1.1 only: see
docs/explanation/http-client.md.

The session's API calls skip httpx2's request and response objects: they go straight to
:meth:`AiohttpTransport.exchange` with headers merged once per token (building and reading those
objects cost as much CPU as aiohttp's whole exchange). Token requests, and every call of a client
given a test transport, still go through httpx2; both ways meet in :class:`Answer`.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx2
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

__all__ = ["AiohttpTransport", "Answer"]

# Framing is aiohttp's to write (it sets Content-Length for a buffer, and chunks a stream that
# has none); a Host from httpx2 would duplicate the one aiohttp derives from the URL.
_DROPPED = frozenset({b"host", b"transfer-encoding", b"connection"})
# httpx2 decodes Content-Encoding itself: aiohttp must neither add its own Accept-Encoding nor
# decompress, so that the body httpx2 receives matches the headers it receives.
_SKIP_AUTO = frozenset({"Accept-Encoding", "User-Agent", "Accept"})


_Proxy = tuple[URL | None, aiohttp.BasicAuth | None]


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer read whole: what the session needs of it, whichever way it came."""

    status: int
    reason: str
    headers: Mapping[str, str]
    """Case-insensitive (aiohttp's ``CIMultiDictProxy`` or ``httpx2.Headers``)."""
    content: bytes
    """The body as sent, still encoded when ``Content-Encoding`` says so."""
    raw_headers: Sequence[tuple[bytes, bytes]]

    @classmethod
    def of(cls, response: httpx2.Response) -> Answer:
        """The answer of a response httpx2 has read (its content decoded)."""
        return cls(
            response.status_code,
            response.reason_phrase,
            response.headers,
            response.content,
            response.headers.raw,
        )

    def decoded(self, request: httpx2.Request | None = None) -> Answer:
        """This answer with its body decoded as httpx2 decodes it (``Content-Encoding``)."""
        if "content-encoding" not in self.headers:
            return self
        return Answer.of(self.response(request))

    def response(self, request: httpx2.Request | None = None) -> httpx2.Response:
        """This answer as an ``httpx2.Response`` (which decodes the body)."""
        return httpx2.Response(
            self.status,
            headers=list(self.raw_headers),
            content=self.content,
            request=request,
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": self.reason.encode("latin-1"),
            },
        )


class AiohttpTransport(httpx2.AsyncBaseTransport):
    """Sends httpx2 requests over one aiohttp keep-alive pool (HTTP/1.1, TLS verified as
    httpx2 would: system and certifi roots, ``SSL_CERT_FILE`` and ``SSL_CERT_DIR``)."""

    def __init__(self, *, max_connections: int, verify: ssl.SSLContext | None = None) -> None:
        self._max_connections = max_connections
        self._ssl = verify
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[Any, ...], aiohttp.ClientTimeout] = {}
        self._proxies: dict[tuple[str, str | None, int | None], _Proxy] = {}

    def _open(self) -> aiohttp.ClientSession:
        # Made on first use: aiohttp binds its pool to the running event loop.
        context = self._ssl if self._ssl is not None else httpx2.create_ssl_context()
        connector = aiohttp.TCPConnector(
            limit=self._max_connections, limit_per_host=0, ssl=context, enable_cleanup_closed=True
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            skip_auto_headers=_SKIP_AUTO,
            # httpx2 keeps the cookies (it reads Set-Cookie from the responses handed back).
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=None),
        )
        # aiohttp re-sends an idempotent request once, unseen, when a reused connection drops.
        # The session's retry loop is the client's only one (paced, counted, logged), so that is
        # switched off, as aiohttp's own test client does (no public setting for it).
        self._session._retry_connection = False
        return self._session

    def _timeout(self, extensions: Mapping[str, Any]) -> aiohttp.ClientTimeout:
        given = extensions.get("timeout") or {}
        key = (given.get("connect"), given.get("read"), given.get("pool"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            connect, read, pool = key
            # aiohttp's ``connect`` bounds the wait for a pooled connection plus connecting;
            # ``sock_read`` the silence between reads (httpx2's read timeout). aiohttp has no
            # write timeout: a stalled upload ends at the next read's deadline.
            waited = None if pool is None or connect is None else pool + connect
            timeout = aiohttp.ClientTimeout(
                total=None, connect=waited, sock_connect=connect, sock_read=read
            )
            self._timeouts[key] = timeout
        return timeout

    def timeout(self, timeouts: Mapping[str, float | None]) -> aiohttp.ClientTimeout:
        """aiohttp's timeouts for httpx2's (``httpx2.Timeout.as_dict()``)."""
        return self._timeout({"timeout": timeouts})

    def _proxy(self, url: URL) -> _Proxy:
        # HTTP(S)_PROXY and NO_PROXY, as httpx2 honoured them, looked up once per server:
        # aiohttp's own trust_env looks them up (and ~/.netrc) in a thread on every request.
        key = (url.scheme, url.host, url.port)
        found = self._proxies.get(key)
        if found is None:
            try:
                found = get_env_proxy_for_url(url.origin())
            except LookupError:
                found = (None, None)
            self._proxies[key] = found
        return found

    async def exchange(
        self,
        method: str,
        url: URL,
        headers: Sequence[tuple[str, str]],
        body: bytes | AsyncIterator[bytes] | None,
        timeouts: aiohttp.ClientTimeout,
        *,
        request: httpx2.Request | None = None,
    ) -> Answer:
        """Send one request and read its answer whole (the body as sent, not decoded).

        ``headers`` are sent as given, so they carry no ``Host``, ``Connection`` or
        ``Transfer-Encoding`` (aiohttp writes the framing). aiohttp's failures are raised as
        httpx2's (about ``request`` when given)."""
        session = self._session or self._open()
        proxy, proxy_auth = self._proxy(url)
        try:
            async with session.request(
                method,
                url,
                headers=headers,
                data=body,
                allow_redirects=False,
                proxy=proxy,
                proxy_auth=proxy_auth,
                timeout=timeouts,
            ) as answer:
                content = await answer.read()
                return Answer(
                    answer.status, answer.reason or "", answer.headers, content, answer.raw_headers
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _as_httpx2(exc, request) from exc

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in request.headers.raw
            if name.lower() not in _DROPPED
        ]
        body: bytes | AsyncIterator[bytes] | None
        try:
            body = request.content or None
        except httpx2.RequestNotRead:
            body = _stream(request.stream)
        answer = await self.exchange(
            request.method,
            URL(str(request.url)),
            headers,
            body,
            self._timeout(request.extensions),
            request=request,
        )
        return answer.response(request)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


async def _stream(stream: object) -> AsyncIterator[bytes]:
    assert isinstance(stream, httpx2.AsyncByteStream)
    async for chunk in stream:
        yield chunk


def _as_httpx2(exc: BaseException, request: httpx2.Request | None) -> httpx2.TransportError:
    """The httpx2 exception that says the same thing as aiohttp's ``exc``."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx2.ConnectTimeout(message, request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):
        # Nothing was sent. Its cause is the OS error (a refused connection, a failed lookup).
        return httpx2.ConnectError(message, request=request)
    if isinstance(exc, TimeoutError):
        return httpx2.ReadTimeout(message, request=request)
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return httpx2.RemoteProtocolError(message, request=request)
    if isinstance(exc, aiohttp.ClientResponseError):
        # A malformed answer (aiohttp's parser refused it).
        return httpx2.RemoteProtocolError(message, request=request)
    if isinstance(exc, aiohttp.ClientOSError):
        return httpx2.ReadError(message, request=request)
    return httpx2.TransportError(message, request=request)
