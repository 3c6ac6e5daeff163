"""`validate`: problems that need the warehouse or the environment, at exact positions."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from listrak_sync.project.loader import CONFIG_FILE, load_project
from listrak_sync.project.problems import Problem
from listrak_sync.project.scaffold import sample_text
from listrak_sync.project.secrets import resolve_listrak
from listrak_sync.project.validate import validate_project

HEADER = """\
warehouse:
  connection: {warehouse}
credentials:
  email: {{type: listrak, client_id: id, client_secret: {{secret: email_secret}}}}
  sms: {{type: listrak, client_id: {{env: LSYNC_TEST_SMS_ID}}, client_secret: {{env: LSYNC_TEST_SMS_SECRET}}}}
destinations:
  news: {{type: listrak_email, credential: email, list: {{id: 1}}, attributes: [first_name]}}
  texts: {{type: listrak_sms, credential: sms, sender_code_id: 1, list_id: 9}}
"""  # noqa: E501 - eight lines whose positions the tests rely on


def write(
    tmp_path: Path, warehouse: Path, body: str, secrets: str | None = "email_secret: s"
) -> Path:
    text = HEADER.format(warehouse=warehouse) + textwrap.dedent(body).lstrip("\n")
    (tmp_path / CONFIG_FILE).write_text(text)
    if secrets is not None:
        file = tmp_path / "secrets.yml"
        file.write_text(secrets)
        file.chmod(0o600)
    return tmp_path


def found(tmp_path: Path) -> list[Problem]:
    _, problems = validate_project(tmp_path)
    return problems


def at(problems: list[Problem], line: int, column: int) -> Problem:
    matches = [p for p in problems if (p.line, p.column) == (line, column)]
    assert matches, f"nothing at {line}:{column}; got {[str(p) for p in problems]}"
    return matches[0]


@pytest.fixture(autouse=True)
def sms_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LSYNC_TEST_SMS_ID", "sms-id")
    monkeypatch.setenv("LSYNC_TEST_SMS_SECRET", "sms-secret-value")


def test_sql_errors_in_a_block_scalar(tmp_path: Path, sample_warehouse: Path) -> None:
    write(
        tmp_path,
        sample_warehouse,
        """
        segments:
          gold:
            sql: |
              SELECT customer_id
              FROM customer_360
              WHERE loyalty_teir = 'Gold'
        """,
    )
    problems = found(tmp_path)
    # Line 14 of the file is the WHERE line; loyalty_teir starts at column 13.
    problem = at(problems, 14, 13)
    assert problem.message == "unknown column 'loyalty_teir'"
    assert problem.hint == "did you mean 'loyalty_tier'?"
    assert len(problems) == 1


def test_sql_errors_in_a_plain_scalar(tmp_path: Path, sample_warehouse: Path) -> None:
    write(
        tmp_path,
        sample_warehouse,
        """
        segments:
          gold: {sql: "SELECT customer_id FROM customers_360"}
          bad: {sql: SELECT customer_id FROM customer_360 WHERE}
        """,
    )
    problems = found(tmp_path)
    assert at(problems, 10, 40).hint == "did you mean 'customer_360'?"
    assert "syntax" in at(problems, 11, 51).message


def test_filter_errors(tmp_path: Path, sample_warehouse: Path) -> None:
    write(
        tmp_path,
        sample_warehouse,
        """
        segments:
          s:
            filter:
              all:
                - {attribute: lifetime_valu, op: gt, value: 10}
                - aggregate: {table: order, date_column: order_date, within_last_days: 9}
                  op: gte
                  value: 1
        """,
    )
    problems = found(tmp_path)
    assert at(problems, 13, 23).hint == "did you mean 'lifetime_value'?"
    assert at(problems, 14, 30).hint == "did you mean 'orders'?"


def test_campaign_problems(tmp_path: Path, sample_warehouse: Path) -> None:
    write(
        tmp_path,
        sample_warehouse,
        """
        segments:
          all: {sql: SELECT customer_id FROM customer_360}
        campaigns:
          one:
            segment: all
            groups: [{name: A, percent: 100, destinations: [news, newsleter, texts]}]
            destinations:
              news: {add_attributes: [{column: favourite_colour, field: Colour}]}
          two:
            segment: al
            dedupe: {prefer: [{column: updated, order: desc}]}
            groups: [{name: A, percent: 100, destinations: [texts]}]
        """,
    )
    problems = found(tmp_path)
    assert at(problems, 14, 59).hint == "did you mean 'news'?"  # newsleter
    missing = at(problems, 16, 31)
    assert "unknown attribute 'favourite_colour'" in missing.message
    assert at(problems, 18, 14).hint == "did you mean 'all'?"
    clash = at(problems, 20, 53)
    assert "SMS list 9 is already managed by 'one'" in clash.message


def test_credentials_problems(
    tmp_path: Path, sample_warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LSYNC_TEST_SMS_SECRET")
    write(tmp_path, sample_warehouse, "", secrets="other: x")
    problems = found(tmp_path)
    assert "secret 'email_secret' is not in secrets.yml" in at(problems, 4, 56).message
    env = at(problems, 5, 76)
    assert env.message == "environment variable LSYNC_TEST_SMS_SECRET is not set"
    assert env.hint == "export LSYNC_TEST_SMS_SECRET=..."


def test_a_readable_secrets_file_is_refused(tmp_path: Path, sample_warehouse: Path) -> None:
    write(tmp_path, sample_warehouse, "")
    (tmp_path / "secrets.yml").chmod(0o644)
    problems = found(tmp_path)
    (problem,) = problems
    assert "readable by others (mode 0644)" in problem.message
    assert problem.hint == f"run: chmod 600 {tmp_path / 'secrets.yml'}"
    with pytest.raises(Exception) as caught:
        resolve_listrak(load_project(tmp_path), "email")
    assert "0644" in str(caught.value)


def test_secrets_resolve_as_secret_strings(tmp_path: Path, sample_warehouse: Path) -> None:
    write(tmp_path, sample_warehouse, "", secrets="email_secret: hunter2-value")
    project = load_project(tmp_path)
    email = resolve_listrak(project, "email")
    assert email.client_id == "id"
    assert email.client_secret.get_secret_value() == "hunter2-value"
    assert "hunter2" not in repr(email)
    assert "hunter2" not in str(email)
    sms = resolve_listrak(project, "sms")
    assert sms.client_id == "sms-id"
    assert sms.client_secret.get_secret_value() == "sms-secret-value"


def test_missing_warehouse_file(tmp_path: Path) -> None:
    write(tmp_path, tmp_path / "nope.duckdb", "")
    (problem,) = found(tmp_path)
    assert (problem.line, problem.column) == (2, 15)
    assert "does not exist" in problem.message
    assert not (tmp_path / "nope.duckdb").exists()  # validate never creates a warehouse


def test_the_sample_project_validates_against_sample_data(
    tmp_path: Path, sample_warehouse: Path
) -> None:
    text = sample_text("listrak-sync.yml").replace(
        "connection: warehouse.duckdb", f"connection: {sample_warehouse}"
    )
    (tmp_path / CONFIG_FILE).write_text(text)
    secrets = tmp_path / "secrets.yml"
    secrets.write_text(sample_text("secrets.example.yml"))
    os.chmod(secrets, 0o600)
    assert found(tmp_path) == []
