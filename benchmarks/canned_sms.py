"""A minimal SMS upstream that answers canned responses, to measure the client by itself.

``python -m benchmarks.canned_sms --port N [--latency-ms 20]`` serves just enough of the SMS API
(token, sender code, list, profile fields, empty member and opt-out pages, Create Contact,
Subscribe, Unsubscribe, Contact Update Imports) for an SMS sync of new members, each answer a
fixed byte string after ``latency-ms``. Plain asyncio streams and HTTP/1.1 keep-alive, so the
server's own cost is a few tens of microseconds per request and the client's CPU is what a
benchmark of the sync process measures. It keeps per-operation request counts, read back with
``GET /counts``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from collections import Counter

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


def _answer(status: int, doc: object) -> bytes:
    body = json.dumps(doc, separators=(",", ":")).encode()
    reason = {200: "OK", 201: "Created", 404: "Not Found"}[status]
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


_EMPTY_PAGE = _answer(200, {"status": 200, "nextPageCursor": None, "data": []})
ROUTES: list[tuple[str, re.Pattern[str], str, bytes]] = [
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

    def route(self, method: str, path: str) -> bytes:
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


async def _main(port: int, latency_ms: float) -> None:
    canned = Canned(latency_ms / 1000)
    server = await asyncio.start_server(canned.serve, "127.0.0.1", port, backlog=256)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    arguments = parser.parse_args()
    asyncio.run(_main(arguments.port, arguments.latency_ms))
