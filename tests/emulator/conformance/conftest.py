"""The conformance suites share one emulator of their own and a seeded sandbox on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from listrak_sync.emulator.server import EmulatorServer

from . import harness
from .harness import Sandbox, prepare_sandbox


def pytest_configure(config: pytest.Config) -> None:
    # The deep run's tests are expensive to collect; define them only when -m may pick them.
    harness.DEEP_RUN[0] = "not slow" not in (config.getoption("markexpr") or "")


@pytest.fixture(scope="session")
def conformance_server() -> Iterator[EmulatorServer]:
    # Its own server, so the sandbox below is never reset behind its back by other suites.
    # Strict: the spec-shaped answers schemathesis validates (realistic adds explicit nulls).
    with EmulatorServer(realism="strict") as server:
        yield server


class _Reuse:
    sandbox: Sandbox | None = None
    prepared = -1


@pytest.fixture
def sandbox(
    request: pytest.FixtureRequest, conformance_server: EmulatorServer
) -> Iterator[Sandbox]:
    """A reset, seeded sandbox; reused after a test that only sent GETs (nothing it could change).

    Preparing costs about 0.1 s and most generated tests are read-only, so this keeps the
    default run short without letting one test's writes leak into the next.
    """
    if _Reuse.sandbox is None or _Reuse.prepared != harness.PREPARED[0]:
        _Reuse.sandbox = prepare_sandbox(conformance_server)
        _Reuse.prepared = harness.PREPARED[0]
    yield _Reuse.sandbox
    if "[GET " not in request.node.name:
        _Reuse.sandbox = None
