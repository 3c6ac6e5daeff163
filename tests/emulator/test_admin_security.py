"""The admin surface cannot be driven from a web page, and the emulator stays on loopback.

A page open in the developer's browser can send requests to 127.0.0.1. A "simple" cross-site
request (a form, or ``fetch`` with ``text/plain``) needs no CORS preflight, so the surface must
refuse it by itself: JSON bodies only, and no foreign ``Origin``.
"""

from __future__ import annotations

import httpx2
import pytest
from typer.testing import CliRunner

from listrak_sync.cli import app
from listrak_sync.emulator.cli import _is_loopback
from tests.conftest import Emulator


def _lists(emulator: Emulator) -> int:
    return len(emulator.admin.state()["email"]["lists"])


def _seed_one(emulator: Emulator) -> None:
    emulator.admin.seed({"email": {"lists": [{"listName": "Kept"}]}})


def test_cross_site_text_plain_post_is_refused(emulator: Emulator) -> None:
    _seed_one(emulator)
    answer = httpx2.post(
        f"{emulator.base_url}/_emulator/reset",
        content="{}",
        headers={"Content-Type": "text/plain", "Origin": "https://evil.example"},
    )
    assert answer.status_code == 403
    assert "cross-origin" in answer.json()["error"]
    assert _lists(emulator) == 1


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_non_json_bodies_are_refused_even_without_an_origin(
    emulator: Emulator, content_type: str
) -> None:
    _seed_one(emulator)
    headers = {"Content-Type": content_type} if content_type else {}
    answer = httpx2.post(f"{emulator.base_url}/_emulator/reset", content=b"", headers=headers)
    assert answer.status_code == 415
    assert _lists(emulator) == 1


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1:1"])
def test_foreign_origins_are_refused_for_json_and_reads_too(
    emulator: Emulator, origin: str
) -> None:
    _seed_one(emulator)
    reset = httpx2.post(f"{emulator.base_url}/_emulator/reset", json={}, headers={"Origin": origin})
    assert reset.status_code == 403
    read = httpx2.get(f"{emulator.base_url}/_emulator/state", headers={"Origin": origin})
    assert read.status_code == 403
    assert _lists(emulator) == 1


def test_same_origin_json_is_accepted(emulator: Emulator) -> None:
    _seed_one(emulator)
    answer = httpx2.post(
        f"{emulator.base_url}/_emulator/reset", json={}, headers={"Origin": emulator.base_url}
    )
    assert answer.status_code == 200
    assert emulator.admin.state()["email"]["lists"] == []


def test_listrak_routes_are_not_subject_to_the_admin_rules(emulator: Emulator) -> None:
    # The token endpoint is form-encoded, as Listrak's is.
    assert emulator.token()


def test_a_non_loopback_host_needs_allow_remote() -> None:
    refused = CliRunner().invoke(app, ["emulator", "--host", "0.0.0.0", "--port", "0"])
    assert refused.exit_code == 2
    assert "--allow-remote" in refused.output
    assert "admin surface" in refused.output


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("emulator.internal", False),
    ],
)
def test_which_hosts_count_as_loopback(host: str, loopback: bool) -> None:
    assert _is_loopback(host) is loopback
