"""Real receivers on loopback: an HTTP server that keeps every request, and an SMTP server
(aiosmtpd) with STARTTLS and a login, keeping every message."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.conftest import EMAIL_CLIENT, Emulator
from tests.loopback_tls import loopback_tls
from tests.sync.helpers import SECRET_ENV, SyncProject


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    status: int = 200

    def events(self) -> list[dict[str, Any]]:
        return [r.json() for r in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            found.requests.append(Received(self.path, dict(self.headers.items()), body))
            self.send_response(found.status)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


@dataclass
class Mailbox:
    host: str
    port: int
    ca_file: Path
    user: str = "alerts"
    password: str = "smtp-password-5e1"
    messages: list[Message] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    tls = loopback_tls(tmp_path / "smtp", "smtp")
    context = tls.server_context()
    with socket.socket() as probe:  # aiosmtpd's controller needs its port before it starts
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox("127.0.0.1", port, tls.ca_file)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            box.messages.append(message_from_bytes(envelope.content))
            return "250 OK"

    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == box.user
            and auth_data.password.decode() == box.password
        )
        if ok:
            box.logins.append(box.user)
        return AuthResult(success=ok)

    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    controller.start()
    yield box
    controller.stop()


@pytest.fixture
def project(tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> SyncProject:
    """A sync project (one email destination) pointed at the test emulator."""
    monkeypatch.setenv(SECRET_ENV, EMAIL_CLIENT[1])
    made = SyncProject(tmp_path / "project", emulator)
    made.root.mkdir()
    made.write_config()
    return made
