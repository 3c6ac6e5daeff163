"""``listrak-sync ui``: where it listens, and what it warns about."""

from __future__ import annotations

import socket
import subprocess
import time

import httpx2

from listrak_sync.web.cli import start_warnings
from tests.sync.helpers import CLI
from tests.web.conftest import ConsoleProject


def test_it_warns_when_reachable_from_other_machines_without_tls() -> None:
    assert start_warnings("127.0.0.1", tls=False, users=1) == []
    assert start_warnings("localhost", tls=False, users=1) == []
    [warning] = start_warnings("0.0.0.0", tls=False, users=1)
    assert "reachable from other machines without TLS" in warning
    assert start_warnings("0.0.0.0", tls=True, users=1) == []
    [nobody] = start_warnings("127.0.0.1", tls=False, users=0)
    assert "nobody can log in" in nobody


def test_it_serves_on_loopback_by_default(console_project: ConsoleProject) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [CLI, "ui", "-p", str(console_project.root), "--port", str(port)],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx2.get(f"http://127.0.0.1:{port}/login", timeout=5)
                break
            except httpx2.TransportError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "the console did not start"
                time.sleep(0.2)
        assert response.status_code == 200
        assert "Log in" in response.text
        assert "server" not in response.headers
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert f"listrak-sync console on http://127.0.0.1:{port} (3 users)" in stderr
    assert "warning" not in stderr
