"""``listrak-sync emulator`` as a user runs it: a real process, seeded, reachable, stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2

from listrak_sync.emulator.admin_client import EmulatorAdmin


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            httpx2.get(f"{url}/_emulator/operations", timeout=1)
            return
        except httpx2.TransportError:
            time.sleep(0.2)
    raise AssertionError("the emulator did not start")


def test_sample_sandbox_and_seed_file_are_served_then_stopped(tmp_path: Path) -> None:
    seed = tmp_path / "extra.yml"
    seed.write_text(
        "email:\n  lists:\n    - {listName: Extra, bounceHandling: None,"
        " bounceUnsubscribeCount: 1}\n"
    )
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "listrak_sync.cli",
            "emulator",
            "--sample",
            "--seed",
            str(seed),
            "--port",
            str(port),
        ],
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        _wait_for(url, process)
        with EmulatorAdmin(url) as admin:
            state = admin.state()
        assert {c["client_id"] for c in state["clients"]} >= {"demo-email", "demo-sms"}
        assert "Extra" in [entry["listName"] for entry in state["email"]["lists"]]
        assert "Newsletter" in [entry["listName"] for entry in state["email"]["lists"]]
    finally:
        process.send_signal(signal.SIGINT)
        # Ctrl-C stops it cleanly: exit 0 or the conventional 130, never a traceback.
        assert process.wait(timeout=30) in (0, 130)
        assert process.stderr is not None
        assert b"Traceback" not in process.stderr.read()


def test_a_bad_seed_file_is_named_and_exits_non_zero(tmp_path: Path) -> None:
    seed = tmp_path / "broken.yml"
    seed.write_text("clients:\n  - {client_id: a, integration: email\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "listrak_sync.cli",
            "emulator",
            "--seed",
            str(seed),
            "--port",
            str(_free_port()),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode != 0
    assert "broken.yml:" in result.stderr
