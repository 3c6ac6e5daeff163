"""Fixtures: the email sync project of tests/sync, pointed at the test emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import EMAIL_CLIENT, Emulator
from tests.sync.helpers import SECRET_ENV, SyncProject


@pytest.fixture
def project(tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> SyncProject:
    monkeypatch.setenv(SECRET_ENV, EMAIL_CLIENT[1])
    made = SyncProject(tmp_path / "project", emulator)
    made.root.mkdir()
    made.write_config()
    return made
