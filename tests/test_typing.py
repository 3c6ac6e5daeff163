"""The public API type-checks as its users write it: mypy --strict over tests/typing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

TYPING = Path(__file__).parent / "typing"


@pytest.mark.timeout(600)
def test_the_public_api_type_checks_as_used() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(TYPING / "api.py")],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=TYPING.parent.parent,
    )
    assert done.returncode == 0, done.stdout + done.stderr
