"""Fixtures: an event server on loopback that delivers to the test emulator, and helpers."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml

from listrak_sync.config.events import EventDestination
from listrak_sync.events import EventServer, EventService, client_settings
from listrak_sync.events.logs import EventLogger, make_logger
from listrak_sync.listrak import Credentials, RetryPolicy
from tests.conftest import EMAIL_CLIENT, Emulator

WRITE_KEY = "wk-test-9f2c1b"
WRITE_KEY_HASH = "sha256:" + __import__("hashlib").sha256(WRITE_KEY.encode()).hexdigest()
LIST_A, LIST_B = 4101, 4102
FIELD_TIER, FIELD_PLAN, FIELD_VIP = 9101, 9102, 9103  # on LIST_A
FIELD_B_TIER = 9201  # on LIST_B
FAST_RETRY = RetryPolicy(attempts=3, timeout=10, wait_initial=0.01, wait_max=0.02, wait_jitter=0)


def seed_lists(emulator: Emulator, contacts: int = 20, *, unsubscribed: int = 0) -> list[str]:
    """Two lists with profile fields and the same ``contacts`` subscribers; returns addresses."""
    emails = [f"person{i:04d}@example.com" for i in range(contacts)]
    people: list[dict[str, Any]] = [{"emailAddress": e} for e in emails]
    for index in range(unsubscribed):
        people[index]["subscriptionState"] = "Unsubscribed"
    emulator.admin.seed(
        {
            "email": {
                "lists": [
                    {
                        "listId": LIST_A,
                        "listName": "Newsletter",
                        "segmentationFieldGroups": [
                            {
                                "segmentationFieldGroupName": "Attributes",
                                "segmentationFields": [
                                    {
                                        "segmentationFieldId": FIELD_TIER,
                                        "segmentationFieldName": "tier",
                                    },
                                    {
                                        "segmentationFieldId": FIELD_PLAN,
                                        "segmentationFieldName": "plan",
                                    },
                                    {
                                        "segmentationFieldId": FIELD_VIP,
                                        "segmentationFieldName": "vip",
                                        "dataType": "CheckBox",
                                        "maxLength": 3,
                                    },
                                ],
                            }
                        ],
                        "contacts": people,
                    },
                    {
                        "listId": LIST_B,
                        "listName": "Loyalty",
                        "segmentationFieldGroups": [
                            {
                                "segmentationFieldGroupName": "Attributes",
                                "segmentationFields": [
                                    {
                                        "segmentationFieldId": FIELD_B_TIER,
                                        "segmentationFieldName": "loyalty_tier",
                                    }
                                ],
                            }
                        ],
                        "contacts": [{"emailAddress": e} for e in emails],
                    },
                ]
            }
        }
    )
    return emails


def destination(**changes: Any) -> EventDestination:
    """A destination with the test write key and fast timings; ``changes`` override."""
    doc: dict[str, Any] = {
        "type": "listrak_events",
        "credential": "email",
        "write_keys": [WRITE_KEY_HASH],
        "batch": {"max_contacts": 100, "max_wait_seconds": 0.05},
        "retry": {"max_attempts": 5, "initial_backoff_seconds": 0.05, "max_backoff_seconds": 0.2},
        "mappings": {
            "tier": {
                "trigger": {"all": [{"type": "track"}, {"event": "Tier Changed"}]},
                "action": {"list_id": LIST_A, "fields": {FIELD_TIER: "$.properties.tier"}},
            }
        },
    }
    doc.update(changes)
    return EventDestination.model_validate(doc)


def auth(key: str = WRITE_KEY) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def track(email: str, event: str, **properties: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "userId": email,
        "event": event,
        "properties": properties,
        "context": {"traits": {"email": email}},
    }


def wait_for(check: Callable[[], Any], *, timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy (a deadline, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last: {result!r}")
        time.sleep(0.05)


def field_values(
    emulator: Emulator, list_id: int, field_ids: list[int]
) -> dict[str, dict[int, str]]:
    """Every subscribed contact's values of ``field_ids`` (lower-cased email -> {id: value})."""
    out: dict[str, dict[int, str]] = {}
    with emulator.http() as http:
        cursor: str | None = "Start"
        while cursor:
            page = http.get(
                f"/email/v1/List/{list_id}/Contact",
                params={
                    "cursor": cursor,
                    "count": 5000,
                    "segmentationFieldIds": ",".join(map(str, field_ids)),
                },
            ).json()
            for contact in page["data"]:
                out[contact["emailAddress"].lower()] = {
                    v["segmentationFieldId"]: v["value"]
                    for v in contact.get("segmentationFieldValues") or []
                }
            cursor = page.get("nextPageCursor") if page["data"] else None
    return out


class Running:
    """A started event server and an HTTP client for it."""

    def __init__(self, server: EventServer, queue_path: Path) -> None:
        self.server = server
        self.service = server.service
        self.queue_path = queue_path
        self.http = httpx2.Client(base_url=server.base_url, timeout=30)

    def post(self, path: str, body: Any, *, key: str | None = WRITE_KEY) -> httpx2.Response:
        return self.http.post(path, json=body, headers=auth(key) if key is not None else None)

    def idle(self) -> bool:
        """Nothing queued and nothing in flight."""
        health = self.http.get("/healthz").json()
        deliverer = self.service.deliverer
        assert deliverer is not None
        busy = any(w.buffer or w.batches for w in deliverer.workers.values())
        return health["batches_in_flight"] == 0 and not busy and _depth(self.queue_path) == 0

    def close(self) -> None:
        self.http.close()
        self.server.stop()


def _depth(path: Path) -> int:
    import sqlite3

    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM updates").fetchone()[0])


StartServer = Callable[..., Running]


@pytest.fixture
def start_server(emulator: Emulator, tmp_path: Path) -> Iterator[StartServer]:
    """Start event servers against the emulator; all are stopped at the end of the test."""
    started: list[Running] = []

    def start(
        dest: EventDestination | None = None,
        *,
        queue: Path | None = None,
        credentials: dict[str, tuple[str, str]] | None = None,
        log: EventLogger | None = None,
        **settings: Any,
    ) -> Running:
        dest = dest or destination()
        queue = queue or tmp_path / "events.sqlite"
        pairs = credentials or {"email": EMAIL_CLIENT}
        settings.setdefault("retry", FAST_RETRY)
        settings.setdefault("import_poll_interval", 0.02)
        settings.setdefault("import_poll_max_interval", 0.1)
        service = EventService(
            dest,
            queue,
            {
                name: Credentials(client_id=pair[0], client_secret=pair[1])  # type: ignore[arg-type]
                for name, pair in pairs.items()
            },
            settings=client_settings(emulator.base_url, emulator.base_url, **settings),
            log=log or make_logger(level="warning"),
            poll_seconds=0.1,
            grace_seconds=2.0,
        )
        running = Running(EventServer(service).start(), queue)
        started.append(running)
        return running

    yield start
    for running in started:
        running.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_config(
    tmp_path: Path, emulator: Emulator, mappings: dict[str, Any] | None = None, **changes: Any
) -> Path:
    """A stand-alone events config for ``serve --config``; the secret comes from the env."""
    doc = {
        "listrak": {"api_url": emulator.base_url, "auth_url": emulator.base_url},
        "credentials": {
            "email": {
                "type": "listrak",
                "client_id": EMAIL_CLIENT[0],
                "client_secret": {"env": "TEST_LISTRAK_EMAIL_SECRET"},
            }
        },
        "destinations": {
            "events": {
                "type": "listrak_events",
                "credential": "email",
                "write_keys": [WRITE_KEY_HASH],
                "queue_file": "state/events.sqlite",
                "batch": {"max_contacts": 50, "max_wait_seconds": 0.05},
                "retry": {
                    "max_attempts": 1000,
                    "initial_backoff_seconds": 0.05,
                    "max_backoff_seconds": 0.2,
                },
                "mappings": mappings
                or {
                    "tier": {
                        "trigger": {"event": "Tier Changed"},
                        "action": {"list_id": LIST_A, "fields": {FIELD_TIER: "$.properties.tier"}},
                    }
                },
                **changes,
            }
        },
    }
    path = tmp_path / "events.yml"
    path.write_text(yaml.safe_dump(doc), "utf-8")
    return path


class Serve:
    """One ``listrak-sync serve`` process."""

    def __init__(self, config: Path, port: int, log: Path, *args: str) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.port = port
        self.log = log
        env = {**os.environ, "TEST_LISTRAK_EMAIL_SECRET": EMAIL_CLIENT[1]}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "listrak_sync.cli",
                "serve",
                "--config",
                str(config),
                "--port",
                str(port),
                *args,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log.open("ab"),
        )
        wait_for(self._healthy, timeout=60, what="the server to start")

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"serve exited: {self.log.read_text()}")
        try:
            return httpx2.get(self.url + "/healthz", timeout=2).status_code == 200
        except httpx2.TransportError:
            return False

    def post(self, path: str, body: object) -> httpx2.Response:
        return httpx2.post(self.url + path, json=body, headers=auth(), timeout=30)


@pytest.fixture
def processes() -> Iterator[list[Serve]]:
    started: list[Serve] = []
    yield started
    for serve in started:
        if serve.process.poll() is None:
            serve.process.kill()
            serve.process.wait(timeout=30)
