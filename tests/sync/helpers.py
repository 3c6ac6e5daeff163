"""A small project on a real DuckDB file, synced to the emulator in-process or by the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from listrak_sync.project.loader import load_project
from listrak_sync.sync import SyncOptions, UnitOutcome, plan_campaign, sync_campaign
from listrak_sync.sync.hooks import PAUSE_AT, PAUSE_FILE
from tests.conftest import EMAIL_CLIENT, Emulator

SECRET_ENV = "LSYNC_TEST_EMAIL_SECRET"
CLI = str(Path(sys.executable).parent / "listrak-sync")
# Fast import polling against the emulator; short retry waits for fault storms.
FAST = {
    "import_poll_interval": 0.02,
    "import_poll_max_interval": 0.1,
    "retry": {"wait_initial": 0.01, "wait_max": 0.05, "wait_jitter": 0.0},
}


@dataclass
class Person:
    customer_id: str
    email: str | None
    first_name: str | None = None
    city: str | None = None
    in_audience: bool = True


def people(count: int, start: int = 1, **changes: Any) -> list[Person]:
    return [
        Person(f"C{i:06d}", f"person{i}@example.com", f"First{i}", "Boston", **changes)
        for i in range(start, start + count)
    ]


@dataclass
class SyncProject:
    """A project folder: listrak-sync.yml, a warehouse with one audience table, an emulator."""

    root: Path
    emulator: Emulator
    destination: dict[str, Any] = field(default_factory=dict)
    campaign: str = "spring"

    def write_config(self, **destination: Any) -> None:
        self.destination = {
            "type": "listrak_email",
            "credential": "email",
            "list": {"name": "Newsletter"},
            "attributes": [
                {"column": "first_name", "field": "FirstName"},
                {"column": "city", "field": "City"},
            ],
            "create_missing_fields": True,
            # The import path unless a test says otherwise: tests of the per-contact path and
            # of the choice between them set it (tests/sync/email/test_per_contact.py).
            "writes": "imports",
            **destination,
        }
        config = {
            "version": 1,
            "warehouse": {"connection": "warehouse.duckdb"},
            "listrak": {"api_url": self.emulator.base_url, "auth_url": self.emulator.base_url},
            "credentials": {
                "email": {
                    "type": "listrak",
                    "client_id": EMAIL_CLIENT[0],
                    "client_secret": {"env": SECRET_ENV},
                }
            },
            "destinations": {"newsletter": self.destination},
            "segments": {
                "members": {"sql": "SELECT customer_id FROM customer_360 WHERE in_audience"}
            },
            "campaigns": {
                self.campaign: {
                    "segment": "members",
                    "groups": [{"name": "all", "percent": 100, "destinations": ["newsletter"]}],
                }
            },
        }
        (self.root / "listrak-sync.yml").write_text(yaml.safe_dump(config, sort_keys=False))

    def set_people(self, rows: Iterable[Person]) -> None:
        """Replace the warehouse's customers (customer_360 + merged_customers)."""
        listed = list(rows)
        with duckdb.connect(str(self.root / "warehouse.duckdb")) as con:
            con.execute(
                "CREATE OR REPLACE TABLE customer_360 (customer_id VARCHAR, in_audience BOOLEAN)"
            )
            con.execute(
                "CREATE OR REPLACE TABLE merged_customers (customer_id VARCHAR, email VARCHAR,"
                " first_name VARCHAR, city VARCHAR)"
            )
            con.executemany(
                "INSERT INTO customer_360 VALUES (?, ?)",
                [(p.customer_id, p.in_audience) for p in listed],
            )
            con.executemany(
                "INSERT INTO merged_customers VALUES (?, ?, ?, ?)",
                [(p.customer_id, p.email, p.first_name, p.city) for p in listed],
            )

    def execute(self, sql: str) -> None:
        with duckdb.connect(str(self.root / "warehouse.duckdb")) as con:
            con.execute(sql)

    def options(self, **values: Any) -> SyncOptions:
        return SyncOptions(client={**FAST, **values.pop("client", {})}, **values)

    def sync(self, **values: Any) -> UnitOutcome:
        outcomes = sync_campaign(load_project(self.root), self.campaign, self.options(**values))
        assert len(outcomes) == 1
        return outcomes[0]

    def plan(self, **values: Any) -> UnitOutcome:
        outcomes = plan_campaign(load_project(self.root), self.campaign, self.options(**values))
        return outcomes[0]

    # --- the CLI in a real subprocess ------------------------------------------------------

    def cli_env(
        self, pause_at: str | None = None, client: Mapping[str, Any] | None = None
    ) -> dict[str, str]:
        return cli_env(self.root, SECRET_ENV, EMAIL_CLIENT[1], pause_at, client)

    def cli(
        self, *args: str, client: Mapping[str, Any] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CLI, *args, "-p", str(self.root)],
            env=self.cli_env(None, client),
            capture_output=True,
            text=True,
            timeout=300,
        )

    def kill_at(self, point: str, *args: str, client: Mapping[str, Any] | None = None) -> None:
        """Start ``sync``, wait until it reaches ``point``, and SIGKILL it there."""
        kill_sync_at(self.root, [self.campaign, *args], point, self.cli_env(point, client))


def cli_env(
    root: Path,
    secret_env: str,
    secret: str,
    pause_at: str | None = None,
    client: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The environment of a CLI subprocess: its secret, fast client settings, a pause point."""
    settings = json.dumps({**FAST, **(client or {})})
    env = {**os.environ, secret_env: secret, "LISTRAK_SYNC_CLIENT_SETTINGS": settings}
    env.pop(PAUSE_AT, None)
    if pause_at is not None:
        env[PAUSE_AT] = pause_at
        env[PAUSE_FILE] = str(root / "paused")
    return env


def kill_sync_at(root: Path, args: list[str], point: str, env: Mapping[str, str]) -> None:
    """Start ``listrak-sync sync ARGS`` in ``root``, wait until it pauses at ``point`` (``env``
    carries the pause point), and SIGKILL it there."""
    with paused_sync(root, args, point, env):
        pass


@contextmanager
def paused_sync(
    root: Path, args: list[str], point: str, env: Mapping[str, str]
) -> Iterator[subprocess.Popen[str]]:
    """A ``listrak-sync sync ARGS`` process in ``root`` paused at ``point`` (alive, holding
    what a sync holds there) while the block runs; SIGKILLed when it ends."""
    signal_file = root / "paused"
    signal_file.unlink(missing_ok=True)
    process = subprocess.Popen(
        [CLI, "sync", *args, "-p", str(root)],
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 600  # an embedded Spark starts a JVM first (slow when busy)
    try:
        while not signal_file.exists():
            if process.poll() is not None:
                raise AssertionError(
                    f"sync ended (exit {process.returncode}) before {point}: "
                    f"{process.stderr.read() if process.stderr else ''}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"sync never reached {point}")
            time.sleep(0.02)
        assert signal_file.read_text() == point
        yield process
    finally:
        process.kill()  # SIGKILL
        process.wait(timeout=30)
        if process.stderr:
            process.stderr.close()
    assert process.returncode == -9


def list_state(emulator: Emulator, list_name: str = "Newsletter") -> dict[str, Any]:
    """The list as the emulator holds it: contacts by lower-cased email, and its imports."""
    state = emulator.admin.state(full=True)
    found = next(item for item in state["email"]["lists"] if item["listName"] == list_name)
    contacts = {c["emailAddress"].lower(): c for c in found.get("contactList", [])}
    return {"contacts": contacts, "imports": found.get("imports", []), "raw": found}


def flags(emulator: Emulator, field: str = "spring") -> dict[str, str | None]:
    """Email -> the audience field's value, for subscribed contacts."""
    contacts = list_state(emulator)["contacts"]
    return {
        email: c["segmentationFieldValues"].get(field)
        for email, c in contacts.items()
        if c["subscriptionState"] == "Subscribed"
    }


def seed_list(emulator: Emulator, contacts: Iterable[Mapping[str, Any]] = (), **extra: Any) -> None:
    emulator.admin.seed(
        {
            "email": {
                "lists": [{"listId": 1001, "listName": "Newsletter", "contacts": list(contacts)}],
                **extra,
            }
        }
    )
