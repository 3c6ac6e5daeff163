"""A minimal SMS upstream that answers canned responses, to measure the client by itself.

``python -m benchmarks.canned_sms --port N [--latency-ms 20] [--cert C --key K]`` serves just
enough of the SMS API (token, sender code, list, profile fields, empty member and opt-out pages,
Create Contact, Subscribe, Unsubscribe, Contact Update Imports) for an SMS sync of new members,
each answer a fixed byte string after ``latency-ms``. Without a certificate it speaks HTTP/1.1
keep-alive over plain asyncio streams; with one and ``--http1``, the same over TLS (what the
client speaks to Listrak since it went to aiohttp); with one alone, HTTP/2 over TLS (ALPN
``h2``, what the earlier httpx2 client negotiated), through the ``h2`` state machine that httpx2
itself uses. Either way the server's own cost is small and in its own process, so the client's
CPU is what a benchmark of the sync process measures. It keeps per-operation request counts,
read back with ``GET /counts``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import ssl
from collections import Counter

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import ConnectionTerminated, DataReceived, RequestReceived, StreamEnded

SENDER = {"shortCodeId": 101, "code": "55501", "country": "US", "merchantName": "Bench"}
PHONE_LIST = {
    "phoneListId": 5001,
    "phoneListName": "Marketing",
    "status": "Active",
    "requireDoubleOptIn": False,
    "requireAgeGate": False,
}
FIELDS = [
    {"segmentationFieldId": 7001, "segmentationFieldName": "First Name", "dataType": "Text"},
    {"segmentationFieldId": 7003, "segmentationFieldName": "Loyalty Tier", "dataType": "Text"},
]


class _Answer(bytes):
    """An HTTP/1.1 response's bytes, with its status and body kept apart for HTTP/2."""

    status: int
    body: bytes


def _answer(status: int, doc: object) -> _Answer:
    body = json.dumps(doc, separators=(",", ":")).encode()
    reason = {200: "OK", 201: "Created", 404: "Not Found"}[status]
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    answer = _Answer(head.encode() + body)
    answer.status, answer.body = status, body
    return answer


_EMPTY_PAGE = _answer(200, {"status": 200, "nextPageCursor": None, "data": []})
ROUTES: list[tuple[str, re.Pattern[str], str, _Answer]] = [
    (
        "POST",
        re.compile(r"/OAuth2/Token$"),
        "token",
        _answer(200, {"access_token": "canned", "token_type": "bearer", "expires_in": 3599}),
    ),
    ("GET", re.compile(r"/sms/v1/ShortCode/\d+$"), "sender_code", _answer(200, {"data": SENDER})),
    (
        "GET",
        re.compile(r"/sms/v1/ShortCode/\d+/PhoneList/\d+$"),
        "phone_list",
        _answer(200, PHONE_LIST),
    ),
    (
        "GET",
        re.compile(r"/sms/v1/ShortCode/\d+/SegmentationField$"),
        "fields",
        _answer(200, {"status": 200, "data": FIELDS}),
    ),
    ("GET", re.compile(r"/sms/v1/ShortCode/\d+/PhoneList/\d+/Contact$"), "members", _EMPTY_PAGE),
    ("GET", re.compile(r"/sms/v1/ShortCode/\d+/OptOut$"), "opt_outs", _EMPTY_PAGE),
    (
        "POST",
        re.compile(r"/sms/v1/ShortCode/\d+/PhoneList/\d+/Contact$"),
        "create",
        _answer(201, {"status": 201, "resourceId": "1"}),
    ),
    (
        "POST",
        re.compile(r"/sms/v1/ShortCode/\d+/Contact/[^/]+/PhoneList/\d+$"),
        "subscribe",
        _answer(201, {"status": 201, "resourceId": "1"}),
    ),
    (
        "DELETE",
        re.compile(r"/sms/v1/ShortCode/\d+/ContactUnsubscribe/[^/]+/PhoneList/\d+$"),
        "unsubscribe",
        _answer(200, {"status": 200, "resourceId": "1"}),
    ),
    (
        "POST",
        re.compile(r"/sms/v1/ShortCode/\d+/ContactImport$"),
        "import",
        _answer(201, {"status": 201, "resourceId": "1"}),
    ),
    (
        "GET",
        re.compile(r"/sms/v1/ShortCode/\d+/ContactImport/\d+$"),
        "import_status",
        _answer(200, {"status": 200, "data": {"importFileId": 1, "status": "Completed"}}),
    ),
]
_NOT_FOUND = _answer(404, {"status": 404, "error": "ERROR_NOT_FOUND", "message": "Not found."})


class Canned:
    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.counts: Counter[str] = Counter()

    def route(self, method: str, path: str) -> _Answer:
        if path == "/counts":
            return _answer(200, dict(self.counts))
        for want, pattern, name, answer in ROUTES:
            if want == method and pattern.search(path):
                self.counts[name] += 1
                return answer
        self.counts["not_found"] += 1
        return _NOT_FOUND

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                length = 0
                for line in lines[1:]:
                    if line[:15].lower() == "content-length:":
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
                answer = self.route(method, target.split("?", 1)[0])
                if self.latency and target != "/counts":
                    await asyncio.sleep(self.latency)
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


class _H2(asyncio.Protocol):
    """One HTTP/2 connection: each stream is answered ``latency`` after its request ended."""

    def __init__(self, canned: Canned) -> None:
        self.canned = canned
        self.h2 = H2Connection(H2Configuration(client_side=False, header_encoding="latin-1"))
        self.requests: dict[int, tuple[str, str]] = {}
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.h2.initiate_connection()
        transport.write(self.h2.data_to_send())

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        for event in self.h2.receive_data(data):
            if isinstance(event, RequestReceived):
                headers = dict(event.headers)
                self.requests[event.stream_id] = (headers[":method"], headers[":path"])
            elif isinstance(event, DataReceived):
                self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, StreamEnded):
                method, target = self.requests.pop(event.stream_id)
                answer = self.canned.route(method, target.split("?", 1)[0])
                delay = self.canned.latency if target != "/counts" else 0.0
                asyncio.get_running_loop().call_later(delay, self._respond, event.stream_id, answer)
            elif isinstance(event, ConnectionTerminated):
                self.transport.close()
        self._flush()

    def _respond(self, stream_id: int, answer: _Answer) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.h2.send_headers(
            stream_id,
            [
                (":status", str(answer.status)),
                ("content-type", "application/json"),
                ("content-length", str(len(answer.body))),
            ],
        )
        self.h2.send_data(stream_id, answer.body, end_stream=True)
        self._flush()

    def _flush(self) -> None:
        data = self.h2.data_to_send()
        if data and self.transport is not None:
            self.transport.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def _main(
    port: int, latency_ms: float, cert: str | None, key: str | None, http1: bool
) -> None:
    canned = Canned(latency_ms / 1000)
    if cert is not None and http1:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        context.set_alpn_protocols(["http/1.1"])
        tls_server = await asyncio.start_server(
            canned.serve, "127.0.0.1", port, ssl=context, backlog=256
        )
        async with tls_server:
            await tls_server.serve_forever()
    if cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        context.set_alpn_protocols(["h2"])
        loop = asyncio.get_running_loop()
        h2_server = await loop.create_server(
            lambda: _H2(canned), "127.0.0.1", port, ssl=context, backlog=256
        )
        async with h2_server:
            await h2_server.serve_forever()
    server = await asyncio.start_server(canned.serve, "127.0.0.1", port, backlog=256)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--cert", help="PEM certificate: serve HTTP/2 over TLS")
    parser.add_argument("--key", help="PEM private key of --cert")
    parser.add_argument(
        "--http1", action="store_true", help="with --cert: HTTP/1.1 over TLS instead of HTTP/2"
    )
    arguments = parser.parse_args()
    asyncio.run(
        _main(arguments.port, arguments.latency_ms, arguments.cert, arguments.key, arguments.http1)
    )
