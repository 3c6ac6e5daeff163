"""Every implemented operation answers schema-valid input as the official spec says.

For each operation schemathesis generates valid requests (mixed with seeded ids), sends them to
the running emulator and checks: no 5xx, the status code is documented, the content type is the
documented one, the body validates against the response schema, and valid input is not refused
for a reason other than a business rule (400/404).
"""

from __future__ import annotations

from typing import Any

import pytest
from schemathesis import Case, GenerationMode

from .harness import (
    DEEP_EXAMPLES,
    DEEP_RUN,
    POSITIVE_CHECKS,
    Sandbox,
    api_of,
    parametrize,
)

QUICK = parametrize(GenerationMode.POSITIVE)


def _call(case: Case[Any], sandbox: Sandbox) -> None:
    api = api_of(case)
    case.call_and_validate(
        base_url=sandbox.api_url(api), headers=sandbox.headers(api), checks=POSITIVE_CHECKS
    )


@QUICK
def test_valid_requests_get_documented_answers(case: Case[Any], sandbox: Sandbox) -> None:
    _call(case, sandbox)


if DEEP_RUN[0]:  # defined only when -m can select slow tests: see harness.parametrize

    @pytest.mark.slow
    @parametrize(GenerationMode.POSITIVE, DEEP_EXAMPLES)
    def test_valid_requests_get_documented_answers_deep(case: Case[Any], sandbox: Sandbox) -> None:
        _call(case, sandbox)
