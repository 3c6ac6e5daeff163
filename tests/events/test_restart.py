"""``listrak-sync serve`` as a real process: killed with SIGKILL after its 2xx answers, nothing is
lost; stopped with SIGTERM, it shuts down cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
import yaml

from tests.conftest import EMAIL_CLIENT, Emulator

from .conftest import (
    FIELD_TIER,
    LIST_A,
    WRITE_KEY_HASH,
    auth,
    field_values,
    seed_lists,
    track,
    wait_for,
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(tmp_path: Path, emulator: Emulator) -> Path:
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
                "mappings": {
                    "tier": {
                        "trigger": {"event": "Tier Changed"},
                        "action": {"list_id": LIST_A, "fields": {FIELD_TIER: "$.properties.tier"}},
                    }
                },
            }
        },
    }
    path = tmp_path / "events.yml"
    path.write_text(yaml.safe_dump(doc), "utf-8")
    return path


class Serve:
    """One ``listrak-sync serve`` process."""

    def __init__(self, config: Path, port: int, log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
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


def test_sigkill_after_2xx_loses_nothing(
    emulator: Emulator, tmp_path: Path, processes: list[Serve]
) -> None:
    emails = seed_lists(emulator, contacts=40)
    config = _config(tmp_path, emulator)
    port = _free_port()
    # Listrak is down: everything accepted stays queued.
    emulator.admin.add_fault(path="/Contact/SegmentationField", error_rate=1.0, error_status=503)
    first = Serve(config, port, tmp_path / "serve.log")
    processes.append(first)
    for start in range(0, 40, 10):
        batch = [track(e, "Tier Changed", tier="kept") for e in emails[start : start + 10]]
        assert first.post("/v1/batch", {"batch": batch}).status_code == 200
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=30)
    emulator.admin.clear_faults()
    assert all(FIELD_TIER not in v for v in field_values(emulator, LIST_A, [FIELD_TIER]).values())
    second = Serve(config, port, tmp_path / "serve.log")
    processes.append(second)

    def delivered() -> bool:
        values = field_values(emulator, LIST_A, [FIELD_TIER])
        return all(values[e].get(FIELD_TIER) == "kept" for e in emails)

    wait_for(delivered, timeout=60, what="every accepted event after the restart")


def test_sigterm_shuts_down_cleanly(
    emulator: Emulator, tmp_path: Path, processes: list[Serve]
) -> None:
    emails = seed_lists(emulator, contacts=5)
    config = _config(tmp_path, emulator)
    serve = Serve(config, _free_port(), tmp_path / "serve.log")
    processes.append(serve)
    batch = [track(e, "Tier Changed", tier="term") for e in emails]
    assert serve.post("/v1/batch", {"batch": batch}).status_code == 200
    serve.process.send_signal(signal.SIGTERM)
    assert serve.process.wait(timeout=60) == 0
    log = serve.log.read_text()
    assert '"event service stopped"' in log
    assert "Traceback" not in log
    # Whatever was not delivered before the signal is still queued for the next start.
    import sqlite3

    with sqlite3.connect(tmp_path / "state" / "events.sqlite") as db:
        queued = {row[0] for row in db.execute("SELECT email FROM updates")}
    values = field_values(emulator, LIST_A, [FIELD_TIER])
    done = {e for e in emails if values[e].get(FIELD_TIER) == "term"}
    assert done | queued == set(emails)
