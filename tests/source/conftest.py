"""A project pulling from the emulator: seeds, a project folder, and ways to run ``pull``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from listrak_sync.cli import app
from listrak_sync.project.loader import load_project
from listrak_sync.state import Run
from listrak_sync.sync.workspace import Workspace
from listrak_sync.warehouse import connect
from tests.conftest import EMAIL_CLIENT, SMS_CLIENT, Emulator

LIST_ID = 5001
SENDER = 301
PHONE_LISTS = (2001, 2002)
EXTRA_FIELDS = 31  # with the four named fields: 35, more than one request's 30
START = datetime(2026, 1, 1, 8, 0, 0)


def field_groups() -> list[dict[str, Any]]:
    named = [
        {"segmentationFieldName": "FirstName", "segmentationFieldId": 101},
        {"segmentationFieldName": "City", "segmentationFieldId": 102},
        {"segmentationFieldName": "CustomerId", "segmentationFieldId": 103},
        {"segmentationFieldName": "Loyalty Tier", "segmentationFieldId": 104},
    ]
    extra = [
        {"segmentationFieldName": f"Extra{k:02d}", "segmentationFieldId": 200 + k}
        for k in range(1, EXTRA_FIELDS + 1)
    ]
    return [
        {"segmentationFieldGroupName": "Profile", "segmentationFields": named},
        {"segmentationFieldGroupName": "More", "segmentationFields": extra},
    ]


def email_contact(i: int) -> dict[str, Any]:
    """Contact ``i``: every 10th unsubscribed; every 3rd without a CustomerId; every 50th has
    the extra fields (the later passes' values)."""
    at = START + timedelta(minutes=i)
    doc: dict[str, Any] = {
        "emailAddress": f"Person{i:05d}@Example.com",
        "subscriptionState": "Unsubscribed" if i % 10 == 0 else "Subscribed",
        "subscribeDate": at.isoformat(),
        "segmentationFieldValues": {
            "FirstName": f"First{i}",
            "City": ("Denver", "Austin", "Boston")[i % 3],
        },
    }
    if i % 10 == 0:
        doc["unsubscribeDate"] = (at + timedelta(days=1)).isoformat()
    if i % 3:
        doc["segmentationFieldValues"]["CustomerId"] = f"C{i:06d}"
    if i % 50 == 0:
        for k in range(1, EXTRA_FIELDS + 1):
            doc["segmentationFieldValues"][f"Extra{k:02d}"] = f"x{k}-{i}"
    return doc


def seed_email(emulator: Emulator, count: int, *, messages: list[Any] | None = None) -> None:
    emulator.admin.seed(
        {
            "email": {
                "lists": [
                    {
                        "listId": LIST_ID,
                        "listName": "Newsletter",
                        "segmentationFieldGroups": field_groups(),
                        "contacts": [email_contact(i) for i in range(1, count + 1)],
                        "messages": messages or [],
                    }
                ]
            }
        }
    )


def phone(i: int) -> str:
    return f"+1215555{i:04d}"


def seed_sms(emulator: Emulator, count: int) -> None:
    """Numbers on list 2001 (every 7th opted out at the sender code, every 11th unsubscribed
    from the list only); every 5th also on list 2002."""
    contacts = []
    for i in range(1, count + 1):
        subs: list[dict[str, Any]] = [
            {"phoneListId": 2001, "state": "Unsubscribed" if i % 11 == 0 else "Subscribed"}
        ]
        if i % 5 == 0:
            subs.append({"phoneListId": 2002})
        contact: dict[str, Any] = {
            "phoneNumber": phone(i),
            "emailAddress": f"sms{i}@example.com",
            "firstName": f"Sam{i}",
            "lastName": "Doe",
            "postalCode": "19103",
            "subscriptions": subs,
            "segmentationFieldValues": [{"segmentationFieldId": 71, "value": f"gold{i % 2}"}],
        }
        if i % 7 == 0:
            contact["optedOut"] = True
            contact["optOutDate"] = (START + timedelta(minutes=i)).isoformat()
        contacts.append(contact)
    emulator.admin.seed(
        {
            "sms": {
                "fields": [{"segmentationFieldId": 71, "segmentationFieldName": "Tier"}],
                "senderCodes": [
                    {
                        "shortCodeId": SENDER,
                        "code": "12345",
                        "lists": [
                            {"phoneListId": 2001, "phoneListName": "Main"},
                            {"phoneListId": 2002, "phoneListName": "VIP"},
                        ],
                        "contacts": contacts,
                    }
                ],
            }
        }
    )


@dataclass
class SourceProject:
    root: Path
    emulator: Emulator
    env: dict[str, str]
    # The project's `warehouse:` section and what query() opens; a DuckDB file by default.
    warehouse: dict[str, Any] | None = None
    target: Any = None
    # The project's `state:` section (None: local, in .listrak-sync/).
    state: dict[str, Any] | None = None

    @property
    def warehouse_path(self) -> Path:
        return self.root / "warehouse.duckdb"

    def write(self, sources: dict[str, Any]) -> None:
        doc = {
            "warehouse": self.warehouse or {"connection": "warehouse.duckdb"},
            "listrak": {"api_url": self.emulator.base_url, "auth_url": self.emulator.base_url},
            "credentials": {
                "email_api": {
                    "type": "listrak",
                    "client_id": EMAIL_CLIENT[0],
                    "client_secret": {"env": "TEST_EMAIL_SECRET"},
                },
                "sms_api": {
                    "type": "listrak",
                    "client_id": SMS_CLIENT[0],
                    "client_secret": {"env": "TEST_SMS_SECRET"},
                },
            },
            "sources": sources,
        }
        if self.state is not None:
            doc["state"] = self.state
        (self.root / "listrak-sync.yml").write_text(yaml.safe_dump(doc, sort_keys=False))

    def pull(self, *args: str) -> Any:
        """``listrak-sync pull`` in this process; returns the click result."""
        return CliRunner().invoke(app, ["pull", "-p", str(self.root), *args], env=self.env)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with connect(self.target or str(self.warehouse_path)) as warehouse:
            table = warehouse.query(sql)
        return [tuple(row.values()) for row in table.to_pylist()]

    def runs(self, source: str) -> list[Run]:
        with Workspace.for_project(load_project(self.root)).store() as store:
            return store.runs("pull", source)

    def subprocess(self, *args: str, pause_at: str | None = None, timeout: float = 120) -> Any:
        env = {**os.environ, **self.env}
        command = [sys.executable, "-m", "listrak_sync.cli", "pull", "-p", str(self.root), *args]
        if pause_at is None:
            return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
        signal_file = self.root / "paused.txt"
        signal_file.unlink(missing_ok=True)
        env["LISTRAK_SYNC_PAUSE_AT"] = pause_at
        env["LISTRAK_SYNC_PAUSE_FILE"] = str(signal_file)
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while not signal_file.exists():
            if process.poll() is not None:
                _, err = process.communicate()
                raise AssertionError(f"pull ended before {pause_at}: {err.decode()[-2000:]}")
            if time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"pull never reached {pause_at}")
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        return process


@pytest.fixture
def project(tmp_path: Path, emulator: Emulator) -> Iterator[SourceProject]:
    env = {"TEST_EMAIL_SECRET": EMAIL_CLIENT[1], "TEST_SMS_SECRET": SMS_CLIENT[1]}
    return SourceProject(tmp_path, emulator, env)


def email_source(**changes: Any) -> dict[str, Any]:
    return {"type": "listrak_email", "credential": "email_api", "list_id": LIST_ID, **changes}


def sms_source(**changes: Any) -> dict[str, Any]:
    return {
        "type": "listrak_sms",
        "credential": "sms_api",
        "sender_code_id": SENDER,
        **changes,
    }
