"""The Segment-compatible HTTP sink against a local endpoint that fails: nothing is lost."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.source.conftest import LIST_ID, SourceProject, email_source, seed_email

WRITE_KEY = "wk_test_5b1d"


class Endpoint:
    """A batch endpoint on loopback; ``script`` says how to answer the next requests."""

    def __init__(self) -> None:
        self.script: list[str] = []  # "500", "429", "drop"; empty: accept
        self.down = False
        self.refuse: str | None = None  # answer 400 to a batch holding this anonymousId
        self.received: dict[str, dict[str, Any]] = {}
        self.requests = 0
        self.sizes: list[int] = []  # body bytes of each accepted request
        self.counts: list[int] = []  # events in each accepted request
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
                if len(body) > 500 * 1024:  # Segment's limit per batch request
                    action = "413"
                if action is not None:
                    self.send_response(int(action))
                    self.end_headers()
                    return
                endpoint.sizes.append(len(body))
                endpoint.counts.append(len(batch))
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


def test_large_events_are_split_to_fit_segment_batch_limit(
    project: SourceProject, endpoint: Endpoint
) -> None:
    # Segment takes at most 500 KB per batch request: with ~3.3 KB events, a batch of 500
    # events must go out as several requests of at most 480 KB each, none lost or repeated.
    contacts = [
        {
            "emailAddress": f"person{i:04d}.{'x' * 40}@example.com",
            "subscribeDate": "2026-01-01T08:00:00",
            "segmentationFieldValues": {"CustomerId": f"C{i:04d}-" + "y" * 3200},
        }
        for i in range(600)
    ]
    project.emulator.admin.seed(
        {
            "email": {
                "lists": [
                    {
                        "listId": LIST_ID,
                        "listName": "Newsletter",
                        "segmentationFieldGroups": [
                            {
                                "segmentationFieldGroupName": "Profile",
                                "segmentationFields": [
                                    {
                                        "segmentationFieldName": "CustomerId",
                                        "segmentationFieldId": 103,
                                        "maxLength": 4000,
                                    }
                                ],
                            }
                        ],
                        "contacts": contacts,
                    }
                ]
            }
        }
    )
    project.env["TEST_WRITE_KEY"] = WRITE_KEY
    source = _source(endpoint.url, batch_size=500)
    source["events"]["user_id_field"] = 103
    project.write({"news": source})

    result = project.pull()

    assert result.exit_code == 0, result.output
    assert len(endpoint.received) == 600
    assert all(len(e["userId"]) > 3200 for e in endpoint.received.values())
    sizes = endpoint.sizes
    assert max(sizes) <= 480_000 + 100  # the events, plus the envelope and sentAt
    assert min(sizes[:-1]) > 400_000  # each request but the last is filled close to the limit
    assert sum(endpoint.counts) == 600
    assert len(sizes) == len(endpoint.counts) >= 4
    assert endpoint.requests == len(sizes)  # none was refused as too large
