"""Fixtures: the email and SMS sync projects of tests/sync, pointed at the test emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import EMAIL_CLIENT, SMS_CLIENT, Emulator
from tests.events.conftest import start_server  # noqa: F401  (the event server fixture)
from tests.sync.helpers import SECRET_ENV, SyncProject
from tests.sync.sms.conftest import SECRET_ENV as SMS_SECRET_ENV
from tests.sync.sms.conftest import SmsProject


@pytest.fixture
def project(tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> SyncProject:
    monkeypatch.setenv(SECRET_ENV, EMAIL_CLIENT[1])
    made = SyncProject(tmp_path / "project", emulator)
    made.root.mkdir()
    made.write_config()
    return made


@pytest.fixture
def sms_project(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SmsProject:
    monkeypatch.setenv(SMS_SECRET_ENV, SMS_CLIENT[1])
    made = SmsProject(tmp_path, emulator)
    made.write_config()
    made.people([])
    return made
