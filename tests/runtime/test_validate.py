"""`validate` finds bad schedules and alert channels, each at its file, line and column."""

from __future__ import annotations

import textwrap
from pathlib import Path

from listrak_sync.project.loader import CONFIG_FILE
from listrak_sync.project.problems import Problem
from listrak_sync.project.validate import validate_project

BASE = """\
credentials:
  email: {type: listrak, client_id: id, client_secret: {env: LSYNC_TEST_UNSET_SECRET_1}}
destinations:
  news: {type: listrak_email, credential: email, list: {id: 1}, attributes: [first_name]}
segments:
  all: {sql: "SELECT customer_id FROM customer_360"}
campaigns:
  spring: {segment: all, groups: [{name: A, percent: 100, destinations: [news]}]}
"""


def _problems(tmp_path: Path, body: str) -> list[Problem]:
    (tmp_path / CONFIG_FILE).write_text(BASE + textwrap.dedent(body).lstrip("\n"))
    _, problems = validate_project(tmp_path, check_warehouse=False)
    return [p for p in problems if "LSYNC_TEST_UNSET_SECRET_1" not in p.message]


def _at(problems: list[Problem], line: int, column: int) -> Problem:
    matches = [p for p in problems if (p.line, p.column) == (line, column)]
    assert matches, f"nothing at {line}:{column}; got {[str(p) for p in problems]}"
    return matches[0]


def test_an_invalid_cron_and_an_unknown_zone_are_placed(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        """
        schedules:
          nightly:
            cron: "61 6 * * *"
            campaigns: [spring]
          morning:
            cron: "0 6 * * *"
            timezone: America/Gotham
            campaigns: [spring]
        """,
    )
    assert "minute" in _at(problems, 11, 11).message
    assert "unknown time zone 'America/Gotham'" in _at(problems, 15, 15).message


def test_unknown_names_and_after_cycles_are_placed(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        """
        alerts:
          channels:
            ops: {type: webhook, url: "http://127.0.0.1:9/hook", signing_secret: {env: LSYNC_TEST_UNSET_HOOK}}
        schedules:
          a:
            after: [b]
            campaigns: [sprnig]
            alerts: [opz]
          b:
            after: [a]
            pulls: [nowhere]
            exports: [news]
        """,  # noqa: E501
    )
    assert "no campaign named 'sprnig'" in _at(problems, 15, 17).message
    assert "spring" in (_at(problems, 15, 17).hint or "")
    assert "no alert channel named 'opz'" in _at(problems, 16, 14).message
    assert "goes round in a circle" in _at(problems, 18, 13).message
    assert "no source named 'nowhere'" in _at(problems, 19, 13).message
    assert "is not exported" in _at(problems, 20, 15).message
    unset = [p for p in problems if "LSYNC_TEST_UNSET_HOOK" in p.message]
    assert [(p.line, p.column) for p in unset] == [(11, 74)]
