"""The Segment-compatible HTTP sink against a local endpoint that fails: nothing is lost."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.source.conftest import SourceProject, email_source, seed_email

WRITE_KEY = "wk_test_5b1d"


class Endpoint:
    """A batch endpoint on loopback; ``script`` says how to answer the next requests."""

    def __init__(self) -> None:
        self.script: list[str] = []  # "500", "429", "drop"; empty: accept
        self.down = False
        self.refuse: str | None = None  # answer 400 to a batch holding this anonymousId
        self.received: dict[str, dict[str, Any]] = {}
        self.requests = 0
        self.bad_auth = 0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                endpoint.requests += 1
                expected = "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    endpoint.bad_auth += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                action = endpoint.script.pop(0) if endpoint.script else None
                if endpoint.down:
                    action = "503"
                if action == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                batch = json.loads(body)["batch"]
                if any(e.get("anonymousId") == endpoint.refuse for e in batch):
                    action = "400"
                if action is not None:
                    self.send_response(int(action))
                    if action == "429":
                        self.send_header("Retry-After", "0")
                    self.end_headers()
                    return
                for event in batch:
                    endpoint.received[event["messageId"]] = event
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"success":true}')

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/batch"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    served = Endpoint()
    yield served
    served.close()


def _source(url: str, **sink: Any) -> dict[str, Any]:
    return email_source(
        events={
            "sink": {
                "type": "http",
                "url": url,
                "write_key": {"env": "TEST_WRITE_KEY"},
                "batch_size": 50,
                "backoff_initial": 0,
                "backoff_max": 0.01,
                **sink,
            }
        }
    )


def test_retries_through_failures_and_delivers_every_event(
    project: SourceProject, endpoint: Endpoint
) -> None:
    project.env["TEST_WRITE_KEY"] = WRITE_KEY
    seed_email(project.emulator, 1_000)
    project.write({"news": _source(endpoint.url, max_attempts=7)})
    endpoint.script = ["500", "429", "drop", "502", "500", "503"]

    result = project.pull()

    assert result.exit_code == 0, result.output
    assert len(endpoint.received) == 1_000
    assert endpoint.bad_auth == 0
    assert endpoint.requests == 20 + 6  # 20 batches of 50, six failed attempts among them
    assert {e["type"] for e in endpoint.received.values()} == {"identify"}
    run = project.runs("news")[0]
    assert run.status == "succeeded"
    assert run.counts["events_delivered"] == 1_000
    assert run.counts["events_pending"] == 0
    assert WRITE_KEY not in result.output


def test_endpoint_down_keeps_events_for_the_next_pull(
    project: SourceProject, endpoint: Endpoint
) -> None:
    project.env["TEST_WRITE_KEY"] = WRITE_KEY
    seed_email(project.emulator, 300)
    project.write({"news": _source(endpoint.url, max_attempts=3)})
    endpoint.down = True

    down = project.pull()

    assert down.exit_code == 3, down.output
    assert endpoint.received == {}
    run = project.runs("news")[0]
    assert run.status == "partial"
    assert run.counts["events_pending"] == 300
    assert run.counts["events_delivered"] == 0
    assert "503" in (run.error or "")
    assert "300 events queued for the next pull" in " ".join(down.output.split())

    # The contacts are in the warehouse; the events wait in the outbox.
    assert project.query("SELECT count(*) FROM listrak_news_contacts") == [(300,)]
    endpoint.down = False
    up = project.pull()

    assert up.exit_code == 0, up.output
    assert len(endpoint.received) == 300
    assert project.runs("news")[0].counts["events_delivered"] == 300


def test_refused_event_is_set_aside_not_blocking(
    project: SourceProject, endpoint: Endpoint
) -> None:
    project.env["TEST_WRITE_KEY"] = WRITE_KEY
    seed_email(project.emulator, 10)
    project.write({"news": _source(endpoint.url, batch_size=10)})
    endpoint.refuse = "Person00004@Example.com"

    result = project.pull()

    run = project.runs("news")[0]
    assert result.exit_code == 3
    assert run.counts["events_rejected"] == 1
    assert run.counts["events_delivered"] == 9
    assert len(endpoint.received) == 9
    assert "Person00004@Example.com" not in {e["anonymousId"] for e in endpoint.received.values()}
    # A refused event is reported, not retried forever: the next pull has nothing to send.
    endpoint.refuse = None
    assert project.pull().exit_code == 0
    assert len(endpoint.received) == 9
