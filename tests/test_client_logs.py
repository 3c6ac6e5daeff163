"""The client's log lines on stderr: readable, rate-limited on a terminal, JSON, masked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from listrak_sync.client_logs import CLIENT_LOGGER, configure_client_logs


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    found = logging.getLogger(CLIENT_LOGGER)
    saved = (list(found.handlers), found.level, found.propagate)
    yield found
    found.handlers[:], found.level, found.propagate = saved


def _retry(logger: logging.Logger, attempt: int) -> None:
    logger.info(
        "retrying %s %s in %.1f s: %s (attempt %d of %d)",
        "GET",
        "/sms/v1/ShortCode/501/Contact/%2B17205550126",
        2.1,
        "connection refused",
        attempt,
        8,
        extra={"kind": "retry", "reason": "connection refused", "attempt": attempt},
    )


def test_every_retry_line_when_not_a_terminal_with_phones_masked(logger: logging.Logger) -> None:
    out = io.StringIO()
    configure_client_logs("text", stream=out, terminal=False)
    for attempt in (2, 3, 4):
        _retry(logger, attempt)
    lines = out.getvalue().splitlines()
    assert lines == [
        "retrying GET /sms/v1/ShortCode/501/Contact/%2B1********26 in 2.1 s: connection refused "
        f"(attempt {n} of 8)"
        for n in (2, 3, 4)
    ]


def test_retry_lines_are_rate_limited_on_a_terminal(logger: logging.Logger) -> None:
    out = io.StringIO()
    configure_client_logs("text", stream=out, terminal=True)
    for attempt in range(2, 8):
        _retry(logger, attempt)
    logger.info("Listrak (sms): 9 requests", extra={"kind": "summary"})
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].endswith("(attempt 2 of 8)")
    assert lines[1] == "(5 more retry or token lines not shown)"
    assert lines[2] == "Listrak (sms): 9 requests"


def test_json_lines_carry_the_fields_and_mask_phones(logger: logging.Logger) -> None:
    out = io.StringIO()
    configure_client_logs("json", stream=out)
    _retry(logger, 2)
    (line,) = [json.loads(text) for text in out.getvalue().splitlines()]
    assert line["event"] == (
        "retrying GET /sms/v1/ShortCode/501/Contact/%2B1********26 in 2.1 s: "
        "connection refused (attempt 2 of 8)"
    )
    assert (line["kind"], line["reason"], line["attempt"], line["level"]) == (
        "retry",
        "connection refused",
        2,
        "info",
    )
    assert line["logger"] == CLIENT_LOGGER


def test_the_summary_of_a_healthy_run_is_left_out_of_the_text_format(
    logger: logging.Logger,
) -> None:
    out = io.StringIO()
    configure_client_logs("text", stream=out, terminal=False)
    logger.info("Listrak (email): 3 requests", extra={"kind": "summary", "eventful": False})
    logger.info(
        "Listrak (email): 9 requests, 1 retries", extra={"kind": "summary", "eventful": True}
    )
    assert out.getvalue() == "Listrak (email): 9 requests, 1 retries\n"
    json_out = io.StringIO()
    configure_client_logs("json", stream=json_out)
    logger.info("Listrak (email): 3 requests", extra={"kind": "summary", "eventful": False})
    assert json.loads(json_out.getvalue())["eventful"] is False
