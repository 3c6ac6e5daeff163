"""A handler that fails answers like Listrak's 500, and the connection stays usable."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import httpx2
import pytest
import uvicorn
from starlette.requests import Request
from starlette.responses import Response

from listrak_sync.emulator.app import create_app
from listrak_sync.emulator.modules import ApiModule
from listrak_sync.emulator.routing import OperationTable
from listrak_sync.emulator.state import Client, EmulatorState


def _failing_lists(state: EmulatorState) -> OperationTable:
    table = OperationTable()

    @table.operation("GET", "/email/v1/List", "List_GetListCollection", "email")
    async def broken(request: Request, client: Client) -> Response:
        raise RuntimeError("a bug in a handler")

    return table


@pytest.fixture
def failing_server() -> Iterator[tuple[str, str]]:
    state = EmulatorState()
    state.add_client(Client("failing", "failing-secret", "email"))
    token = state.issue_token(state.clients["failing"]).access_token
    module = ApiModule("email", _failing_lists, lambda state, doc: None, lambda state, full: {})
    config = uvicorn.Config(
        create_app(state, [module]), host="127.0.0.1", port=0, log_level="critical"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", token
    server.should_exit = True
    thread.join(10)
    state.close()


def test_a_failing_handler_answers_500_and_keeps_the_connection(
    failing_server: tuple[str, str],
) -> None:
    base_url, token = failing_server
    with httpx2.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}) as http:
        response = http.get("/email/v1/List")
    assert response.status_code == 500
    assert response.json() == {
        "status": 500,
        "error": "ERROR_UNHANDLED_EXCEPTION",
        "message": "An unexpected error occurred. Our development team has been notified.",
    }
    # Two requests pipelined on one connection: both must be answered, so the server did not
    # close the connection after the failure (a client's next request would be reset).
    host, port = base_url.removeprefix("http://").split(":")
    request = (
        f"GET /email/v1/List HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request * 2)
        received = b""
        while received.count(b"HTTP/1.1 500") < 2 and (chunk := sock.recv(65536)):
            received += chunk
    assert received.count(b"HTTP/1.1 500") == 2, received
