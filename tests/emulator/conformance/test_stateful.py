"""Sequences of calls, linked the way the spec's resources are (create a list, then read it).

The specs have no OpenAPI links; schemathesis infers them from resource shapes and path
parameters (``listId`` of ``GET /List`` feeds ``GET /List/{listId}`` ...). Each scenario starts
from a freshly seeded sandbox and every response is checked like in ``test_responses.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from schemathesis import Case, GenerationMode, Response

from listrak_sync.emulator.server import EmulatorServer

from .harness import APIS, DEEP_EXAMPLES, POSITIVE_CHECKS, implemented, prepare_sandbox, schema_for

LINKED = [api for api in APIS if implemented(api)]


def _run(api: str, server: EmulatorServer, scenarios: int, steps: int) -> None:
    schema = schema_for(api, GenerationMode.POSITIVE)
    base = schema.as_state_machine()
    if not schema.statistic.transitions.selected:
        pytest.skip(f"no links between the implemented {api} operations")

    class Scenario(base):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            self.sandbox = prepare_sandbox(server)

        def get_call_kwargs(self, case: Case[Any]) -> dict[str, Any]:
            return {"base_url": self.sandbox.api_url(api), "headers": self.sandbox.headers(api)}

        def validate_response(
            self,
            response: Response,
            case: Case[Any],
            additional_checks: Any = None,
            **kwargs: Any,
        ) -> None:
            case.validate_response(response, checks=POSITIVE_CHECKS, transport_kwargs=kwargs)

    Scenario.run(
        settings=settings(
            max_examples=scenarios,
            stateful_step_count=steps,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )


@pytest.mark.parametrize("api", LINKED)
def test_linked_sequences_conform(api: str, conformance_server: EmulatorServer) -> None:
    _run(api, conformance_server, scenarios=8, steps=6)


@pytest.mark.slow
@pytest.mark.parametrize("api", LINKED)
def test_linked_sequences_conform_deep(api: str, conformance_server: EmulatorServer) -> None:
    _run(api, conformance_server, scenarios=DEEP_EXAMPLES, steps=12)
