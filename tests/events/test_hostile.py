"""``serve`` under hostile input, as a real process: deep JSON, wrong keys, slow and many
connections, a public bind address. Refusals are JSON answers and one JSON log line each."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.conftest import Emulator

from .conftest import WRITE_KEY, Serve, auth, free_port, serve_config, wait_for

DEEP = b'{"batch": [' + b"[" * 2000 + b"]" * 2000 + b"]}"  # about 4 KB


@pytest.fixture
def start(emulator: Emulator, tmp_path: Path) -> Iterator[Any]:
    started: list[Serve] = []

    def run(*args: str, **limits: Any) -> Serve:
        config = serve_config(tmp_path, emulator, limits=limits)
        serve = Serve(config, free_port(), tmp_path / f"serve{len(started)}.log", *args)
        started.append(serve)
        return serve

    yield run
    for serve in started:
        if serve.process.poll() is None:
            serve.process.send_signal(signal.SIGTERM)
            serve.process.wait(timeout=60)


def _log_lines(serve: Serve) -> list[dict[str, Any]]:
    lines = []
    for line in serve.log.read_text().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def _post(serve: Serve, body: bytes, headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.post(
        serve.url + "/v1/batch",
        content=body,
        headers={"Content-Type": "application/json", **(headers or {})},
        timeout=30,
    )


def test_deep_json_is_refused_with_json_and_one_log_line(start: Any) -> None:
    serve = start()
    # No key in a header: the body must be read to find one, and it is too deep to parse.
    unauthenticated = _post(serve, DEEP)
    assert unauthenticated.status_code == 400
    assert unauthenticated.json() == {
        "success": False,
        "error": "the body nests arrays and objects deeper than 64 levels",
    }
    # A wrong key in the header is refused before the body is even read.
    wrong = _post(serve, DEEP, auth("not-the-key"))
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid write key")
    right = _post(serve, DEEP, auth())
    assert right.status_code == 400
    log = serve.log.read_text()
    assert "Traceback" not in log
    refused = [line for line in _log_lines(serve) if line.get("event") == "request refused"]
    assert [(r["status"], r["error"][:21]) for r in refused] == [
        (400, "the body nests arrays"),
        (401, "invalid write key"),
        (400, "the body nests arrays"),
    ]


def test_write_key_in_the_body_wrong_or_missing(start: Any) -> None:
    serve = start()
    message = {"type": "track", "userId": "u", "event": "E"}
    wrong = _post(serve, json.dumps({"writeKey": "nope", "batch": [message]}).encode())
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid write key")
    missing = _post(serve, json.dumps({"batch": [message]}).encode())
    assert missing.status_code == 401
    assert missing.json()["error"].startswith("a write key is required")
    right = _post(serve, json.dumps({"writeKey": WRITE_KEY, "batch": [message]}).encode())
    assert right.status_code == 200


def _closed(sock: socket.socket) -> bytes | None:
    """What the server sent before closing ``sock``, or None while it stays open."""
    sock.settimeout(0.05)
    try:
        data = sock.recv(65536)
    except TimeoutError:
        return None
    except ConnectionResetError:
        return b""
    if not data:
        return b""
    rest = data
    sock.settimeout(5)
    try:
        while chunk := sock.recv(65536):
            rest += chunk
    except ConnectionResetError:
        pass  # closed while our next trickled byte was on its way
    return rest


def _connect(serve: Serve) -> socket.socket:
    return socket.create_connection(("127.0.0.1", serve.port), timeout=5)


def test_slow_headers_and_idle_connections_are_closed(start: Any) -> None:
    serve = start(header_timeout_seconds=0.5)
    idle = [_connect(serve) for _ in range(15)]  # never send a byte
    stalled = [_connect(serve) for _ in range(15)]  # begin a request, then stop
    trickling = [_connect(serve) for _ in range(15)]  # one byte at a time, never finishing
    for sock in stalled + trickling:
        sock.sendall(b"POST /v1/batch HTTP/1.1\r\nHost: x\r\n")
    every = idle + stalled + trickling
    opened = time.monotonic()
    answers: dict[int, bytes] = {}

    def all_closed() -> bool:
        for index, sock in enumerate(every):
            if index in answers:
                continue
            if sock in trickling and time.monotonic() - opened < 5:
                with contextlib.suppress(OSError):  # the server may have closed it
                    sock.sendall(b"X")
            got = _closed(sock)
            if got is not None:
                answers[index] = got
        return len(answers) == len(every)

    wait_for(all_closed, timeout=60, what="every slow connection to be closed")
    assert all(answers[i] == b"" for i in range(15))
    assert all(answers[i].startswith(b"HTTP/1.1 408 ") for i in range(15, 30))
    for sock in every:
        sock.close()
    # The server still serves.
    assert httpx2.get(serve.url + "/healthz", timeout=10).status_code == 200
    closed = [line for line in _log_lines(serve) if line.get("event") == "connections closed"]
    assert closed  # reported, at most every 10 seconds
    assert "Traceback" not in serve.log.read_text()
    metrics = httpx2.get(serve.url + "/metrics", timeout=10).text
    assert 'listrak_events_connections_closed_total{reason="header_timeout"} 45.0' in metrics


def test_a_slow_body_gets_408(start: Any) -> None:
    serve = start(body_timeout_seconds=0.5)
    sock = _connect(serve)
    header = auth()["Authorization"]
    sock.sendall(
        b"POST /v1/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Authorization: {header}\r\nContent-Length: 100\r\n\r\n".encode()
        + b'{"batch": ['
    )
    answer = wait_for(lambda: _closed(sock), timeout=30, what="the slow body's answer")
    sock.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    assert json.loads(body) == {"success": False, "error": "the body did not arrive within 0.5 s"}


def test_connections_over_the_cap_get_503(start: Any) -> None:
    serve = start(max_connections=5, header_timeout_seconds=60)
    held = [_connect(serve) for _ in range(5)]
    time.sleep(0.2)  # let the server see them (an ordering, not a timing assertion)
    extra = _connect(serve)
    answer = wait_for(lambda: _closed(extra), timeout=30, what="the refused connection's answer")
    assert answer.startswith(b"HTTP/1.1 503 ")
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["error"].startswith("too many connections")
    for sock in [*held, extra]:
        sock.close()
    wait_for(
        lambda: httpx2.get(serve.url + "/healthz", timeout=10).status_code == 200,
        what="the server to take connections again",
    )


def test_a_public_bind_address_is_warned_about(start: Any) -> None:
    serve = start("--host", "0.0.0.0")
    wait_for(lambda: "warning: listening on 0.0.0.0" in serve.log.read_text(), what="warning")
    text = " ".join(serve.log.read_text().split())
    assert "TLS reverse proxy" in text
    assert any(line.get("event") == "listening beyond loopback" for line in _log_lines(serve))
    quiet = start()
    assert "warning" not in quiet.log.read_text()


def test_depth_cap_counts_levels_not_brackets_in_strings() -> None:
    from listrak_sync.events.intake import IntakeError, parse_json

    def nested(levels: int) -> bytes:  # the outer object is level 1
        return b'{"a":' + b"[" * (levels - 1) + b'"[[[[{{"' + b"]" * (levels - 1) + b"}"

    assert parse_json(nested(64))["a"]
    assert parse_json(b'{"s": "' + b"[" * 5000 + b'"}')  # brackets in a string are text
    for levels in (65, 500, 5000):  # under and over the interpreter's recursion limit
        with pytest.raises(IntakeError, match="deeper than 64 levels"):
            parse_json(nested(levels))
    with pytest.raises(IntakeError, match="deeper than 10 levels"):
        parse_json(nested(11), max_depth=10)
