"""Which spec operations the emulator implements, the README table of them, and the rest.

Operations the emulator does not implement answer exactly like Listrak answers a route it does
not have: 404 ERROR_UNKNOWN_ROUTE, or 405 ERROR_UNSUPPORTED_METHOD (with ``Allow``) when the
path is served for other methods. Never a 500, never a silent 200.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from typer.testing import CliRunner

from listrak_sync.cli import app
from listrak_sync.emulator.admin_client import EmulatorAdmin
from listrak_sync.emulator.coverage import (
    README_END,
    README_START,
    coverage_rows,
    render_markdown,
    update_readme,
)
from listrak_sync.emulator.server import EmulatorServer
from listrak_sync.emulator.spec import SPEC_FILES, load_spec, spec_operations
from tests.conftest import DATA_CLIENT, EMAIL_CLIENT, SMS_CLIENT, Emulator

README = Path(__file__).parents[2] / "docs" / "reference" / "emulator-coverage.md"
ROWS = coverage_rows()
UNIMPLEMENTED = [row for row in ROWS if not row.implemented]
SERVED = [
    re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", row.path) + "$")
    for row in ROWS
    if row.implemented
]
# Privacy has no integration type in the emulator; any valid token must still get a 404.
CLIENT_FOR = {
    "email": EMAIL_CLIENT,
    "sms": SMS_CLIENT,
    "data": DATA_CLIENT,
    "privacy": EMAIL_CLIENT,
}


def _readme_section() -> str:
    text = README.read_text("utf-8")
    start, end = text.find(README_START), text.find(README_END)
    assert 0 <= start < end, (
        f"the coverage page lacks the markers {README_START!r} ... {README_END!r}"
    )
    return text[start + len(README_START) : end].lstrip("\n")


def test_readme_shows_the_current_coverage_table() -> None:
    assert _readme_section() == render_markdown(ROWS), (
        "docs/reference/emulator-coverage.md is out of date; regenerate it with "
        "`listrak-sync emulator operations --readme docs/reference/emulator-coverage.md`"
    )


def test_every_spec_operation_is_listed_once() -> None:
    expected = {(api, op_id) for api in SPEC_FILES for op_id in spec_operations(api)}
    listed = [(row.api, row.operation_id) for row in ROWS]
    assert len(listed) == len(set(listed))
    assert set(listed) == expected
    total = sum(
        1
        for api in SPEC_FILES
        for item in load_spec(api)["paths"].values()
        for method in item
        if method in ("get", "post", "put", "delete", "patch")
    )
    assert len(ROWS) == total


def test_the_running_emulator_reports_the_same_registry(emulator: Emulator) -> None:
    served = {(op["method"], op["path"], op["operationId"]) for op in emulator.admin.operations()}
    listed = {(row.method, row.path, row.operation_id) for row in ROWS if row.implemented}
    assert served == listed


def test_cli_prints_and_rewrites_the_table(tmp_path: Path) -> None:
    runner = CliRunner()
    printed = runner.invoke(app, ["emulator", "operations", "--markdown"])
    assert printed.exit_code == 0, printed.output
    assert printed.stdout == render_markdown(ROWS)
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{README_START}\nstale\n{README_END}\n\nafter\n", "utf-8")
    rewritten = runner.invoke(app, ["emulator", "operations", "--readme", str(readme)])
    assert rewritten.exit_code == 0, rewritten.output
    assert readme.read_text("utf-8") == (
        f"# x\n\n{README_START}\n{render_markdown(ROWS)}{README_END}\n\nafter\n"
    )
    assert not update_readme(readme, ROWS)  # already current
    readme.write_text("# no markers\n", "utf-8")
    missing = runner.invoke(app, ["emulator", "operations", "--readme", str(readme)])
    assert missing.exit_code == 1


def _sample(param: dict[str, Any]) -> str:
    """A plausible value for a path parameter, so the route is the only thing that is wrong."""
    if param.get("type") == "integer":
        return "1001"
    if param.get("format") == "uuid":
        return str(uuid.UUID(int=1))
    name = str(param["name"]).lower()
    if "phone" in name:
        return "+12155550101"
    if "contact" in name or "email" in name:
        return "ada@example.com"
    return "sample"


def _concrete_path(api: str, operation_id: str) -> str:
    op = spec_operations(api)[operation_id]
    path = op.path
    for param in op.parameters:
        if param.get("in") == "path":
            path = path.replace("{" + str(param["name"]) + "}", _sample(param))
    return path


class _Authorised:
    def __init__(self, http: httpx2.Client, token: str) -> None:
        self.http, self.token = http, token

    def request(self, method: str, path: str, **kwargs: Any) -> httpx2.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.http.request(method, path, headers=headers, **kwargs)


@pytest.fixture(scope="module")
def callers(emulator_server: EmulatorServer) -> Iterator[dict[str, _Authorised]]:
    """One authorised caller per API, shared by the module: unknown routes change nothing.

    Routing answers before authorisation, so a reset by another test in between (which drops
    these tokens) cannot change the outcome.
    """
    with EmulatorAdmin(emulator_server.base_url) as admin:
        for api, client in (("email", EMAIL_CLIENT), ("sms", SMS_CLIENT), ("data", DATA_CLIENT)):
            admin.add_client(client[0], client[1], api)
    with httpx2.Client(base_url=emulator_server.base_url, timeout=30) as http:
        tokens = {}
        for api, (client_id, secret) in CLIENT_FOR.items():
            form = {"grant_type": "client_credentials", "client_id": client_id}
            answer = http.post("/OAuth2/Token", data={**form, "client_secret": secret})
            tokens[api] = answer.raise_for_status().json()["access_token"]
        yield {api: _Authorised(http, token) for api, token in tokens.items()}


@pytest.mark.parametrize(
    ("api", "operation_id"),
    [(row.api, row.operation_id) for row in UNIMPLEMENTED],
    ids=[f"{row.api}:{row.operation_id}" for row in UNIMPLEMENTED],
)
def test_unimplemented_operation_answers_like_an_unknown_route(
    api: str, operation_id: str, callers: dict[str, _Authorised]
) -> None:
    method = spec_operations(api)[operation_id].method
    path = _concrete_path(api, operation_id)
    body: dict[str, Any] = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    response = callers[api].request(method, path, **body)
    error = response.json()
    assert set(error) == {"status", "error", "message"}
    assert error["status"] == response.status_code
    if any(route.match(path) for route in SERVED):
        assert (response.status_code, error["error"]) == (405, "ERROR_UNSUPPORTED_METHOD")
        assert method not in response.headers["allow"].split(", ")
    else:
        assert (response.status_code, error["error"]) == (404, "ERROR_UNKNOWN_ROUTE")
