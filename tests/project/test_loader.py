"""Bad project files: every problem at its exact line and column, with a hint."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from listrak_sync.project.loader import load_project, parse_project
from listrak_sync.project.problems import Problem, ProjectError


def problems(text: str, tmp_path: Path) -> list[Problem]:
    with pytest.raises(ProjectError) as caught:
        parse_project(textwrap.dedent(text).lstrip("\n"), tmp_path, display="p.yml")
    return caught.value.problems


def at(found: list[Problem], line: int, column: int) -> Problem:
    matches = [p for p in found if (p.line, p.column) == (line, column)]
    assert matches, f"nothing at {line}:{column}; got {[str(p) for p in found]}"
    return matches[0]


def test_unknown_fields_with_did_you_mean(tmp_path: Path) -> None:
    found = problems(
        """
        warehouse:
          custmer_table: people
        destinations:
          news:
            type: listrak_email
            credential: email
            list: {id: 5}
            atributes: [first_name]
        """,
        tmp_path,
    )
    first = at(found, 2, 3)
    assert first.message == "unknown field 'custmer_table'"
    assert first.hint == "did you mean 'customer_table'?"
    assert at(found, 8, 5).hint == "did you mean 'attributes'?"
    assert str(first) == (
        "p.yml:2:3: unknown field 'custmer_table' (hint: did you mean 'customer_table'?)"
    )


def test_wrong_values_point_at_the_value(tmp_path: Path) -> None:
    found = problems(
        """
        destinations:
          news:
            type: listrak_emial
            credential: email
          texts:
            type: listrak_sms
            credential: sms
            sender_code_id: abc
            list_id: 3
            mode: mirror
        campaigns:
          c:
            segment: s
            send_groups: seperately
            groups: [{name: A, percent: 60, destinations: [news]}]
        """,
        tmp_path,
    )
    assert at(found, 3, 11).hint == "did you mean 'listrak_email'?"
    assert "sender_code_id" in at(found, 8, 21).message
    assert at(found, 10, 5).message == "unknown field 'mode'"
    assert at(found, 14, 18).hint == "did you mean 'separately'?"


def test_model_rules_point_at_the_mapping(tmp_path: Path) -> None:
    found = problems(
        """
        campaigns:
          c:
            segment: s
            groups: [{name: A, percent: 60, destinations: [news]}]
        """,
        tmp_path,
    )
    assert "add up to 60, not 100" in at(found, 3, 5).message


def test_missing_fields_point_at_their_parent(tmp_path: Path) -> None:
    found = problems(
        """
        destinations:
          news:
            type: listrak_email
            credential: email
        """,
        tmp_path,
    )
    assert at(found, 3, 5).message == "missing required field 'list' in destinations.news"


def test_filter_errors_inside_nested_groups(tmp_path: Path) -> None:
    found = problems(
        """
        segments:
          s:
            filter:
              all:
                - {attribute: ltv, op: gte, value: 3}
                - any:
                    - {atribute: city, op: eq, value: x}
                    - {attribute: city, op: equals, value: x}
        """,
        tmp_path,
    )
    assert at(found, 7, 16).hint == "did you mean 'attribute'?"
    assert "'equals' is not allowed" in at(found, 8, 37).message
    # The misspelt key explains the missing one; it is not reported twice.
    assert len(found) == 2


def test_duplicate_keys_and_bad_names(tmp_path: Path) -> None:
    found = problems(
        """
        segments:
          s: {sql: "select customer_id from customer_360"}
          s: {sql: "select 1"}
          "two words": {sql: "select 1"}
        """,
        tmp_path,
    )
    assert at(found, 3, 3).message == "duplicate key 's'"
    assert "'two words' is not allowed" in at(found, 4, 3).message


def test_secrets_are_not_accepted_inline(tmp_path: Path) -> None:
    found = problems(
        """
        credentials:
          email:
            type: listrak
            client_id: my-id
            client_secret: s3cr3t-value
        """,
        tmp_path,
    )
    problem = at(found, 5, 20)
    assert "{env: VARIABLE}" in problem.message
    assert "s3cr3t-value" not in str(problem)


def test_yaml_syntax_error(tmp_path: Path) -> None:
    found = problems("segments:\n  s: {sql: 'x'\n  t: 1\n", tmp_path)
    assert found[0].line == 3
    assert "not valid YAML" in found[0].message


def test_missing_project_file(tmp_path: Path) -> None:
    with pytest.raises(ProjectError) as caught:
        load_project(tmp_path)
    assert "listrak-sync init" in str(caught.value)


def test_a_good_file_loads_with_defaults(tmp_path: Path) -> None:
    project = parse_project(
        textwrap.dedent(
            """
            credentials:
              email: {type: listrak, client_id: {env: ID}, client_secret: {secret: email}}
            destinations:
              news:
                type: listrak_email
                credential: email
                list: {name: Newsletter}
                attributes: [a, {column: b, field: B}]
            segments:
              s: {filter: {attribute: a, op: ">=", value: 1}}
            campaigns:
              c: {segment: s, groups: [{name: A, percent: 100, destinations: [news]}]}
            schedules:
              nightly: {cron: "0 6 * * *", timezone: Europe/Paris, campaigns: [c]}
            """
        ),
        tmp_path,
    )
    config = project.config
    assert config.warehouse.customer_table == "customer_360"
    assert config.warehouse.profile_table == "merged_customers"
    news = config.destinations["news"]
    assert news.type == "listrak_email"
    assert [a.target for a in news.attributes] == ["a", "B"]
    assert config.campaigns["c"].send_groups == "together"


def test_spark_snapshots_need_spark_connect_and_a_known_format(tmp_path: Path) -> None:
    found = problems(
        """
        warehouse:
          connection: local[*]
          snapshots: {namespace: main.listrak_sync}
        """,
        tmp_path,
    )
    assert "only a Spark Connect warehouse (sc://) keeps them" in at(found, 2, 3).message
    found = problems(
        """
        warehouse:
          connection: sc://spark.internal:15002
          snapshots: {namespace: "main; DROP", format: orc}
        """,
        tmp_path,
    )
    assert [p.line for p in found] == [3, 3]
    assert any("delta" in p.message for p in found), [str(p) for p in found]
