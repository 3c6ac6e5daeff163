"""The sections other parts own, embedded in the project file: ``sources`` (pull), the event
destination (serve) and SFTP logins (export); their problems at file:line:column."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from listrak_sync.config.events import EventDestination
from listrak_sync.config.sources import EmailSource, HttpSink, SmsSource
from listrak_sync.project.loader import CONFIG_FILE, load_project, load_section
from listrak_sync.project.problems import Problem, ProjectError
from listrak_sync.project.secrets import resolve_secret, sftp_target
from listrak_sync.project.validate import validate_project

HASH = "sha256:" + "0" * 64
CREDENTIALS = """\
credentials:
  email: {type: listrak, client_id: id, client_secret: {secret: email_secret}}
  ftp: {type: sftp, username: acme, private_key: {secret: ftp_key}, passphrase: {env: LSYNC_PP}}
"""


def write(tmp_path: Path, body: str, secrets: str = "email_secret: s\nftp_key: k") -> Path:
    (tmp_path / CONFIG_FILE).write_text(CREDENTIALS + textwrap.dedent(body).lstrip("\n"))
    file = tmp_path / "secrets.yml"
    file.write_text(secrets)
    file.chmod(0o600)
    return tmp_path


def offline(tmp_path: Path) -> list[Problem]:
    _, problems = validate_project(tmp_path, check_warehouse=False)
    return problems


def at(problems: list[Problem], line: int, column: int) -> Problem:
    matches = [p for p in problems if (p.line, p.column) == (line, column)]
    assert matches, f"nothing at {line}:{column}; got {[str(p) for p in problems]}"
    return matches[0]


@pytest.fixture(autouse=True)
def passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LSYNC_PP", "pp-value")


# --- sources ------------------------------------------------------------------------------


def test_sources_load_into_the_project_model(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
        sources:
          newsletter:
            type: listrak_email
            credential: email
            list_id: 1001
            fields: [11, 12]
            field_names: {12: loyalty_id}
            events: {sink: {type: jsonl, path: events/newsletter.jsonl}, user_id_field: 12}
          sms: {type: listrak_sms, credential: email, sender_code_id: 301}
        """,
    )
    assert offline(tmp_path) == []
    sources = load_project(tmp_path).config.sources
    news, sms = sources["newsletter"], sources["sms"]
    assert isinstance(news, EmailSource)
    assert isinstance(sms, SmsSource)
    assert news.field_names == {12: "loyalty_id"}
    assert sms.phone_lists == []


def test_source_problems_at_their_place(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
        sources:
          news-letter: {type: listrak_email, credential: email, list_id: 1}
          news:
            type: listrak_emial
          sms:
            type: listrak_sms
            credential: ftp
            sender_code_id: 0
            phone_list: [1]
          ok: {type: listrak_email, credential: emali, list_id: 5}
        """,
    )
    problems = offline(tmp_path)
    name = at(problems, 5, 3)
    assert name.message == "sources.news-letter: name 'news-letter' is not allowed"
    assert name.hint == "names start with a letter and use letters, digits and _"
    assert at(problems, 7, 11).hint == "did you mean 'listrak_email'?"
    assert "greater than 0" in at(problems, 11, 21).message
    assert at(problems, 12, 5).hint == "did you mean 'phone_lists'?"
    # Each problem once: the bad ones stop at the model, so references are checked next run.
    assert len(problems) == 4


def test_source_references_and_write_keys(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
        sources:
          sms: {type: listrak_sms, credential: ftp, sender_code_id: 1}
          news:
            type: listrak_email
            credential: emali
            list_id: 5
            events:
              sink: {type: http, url: "http://127.0.0.1:9/v1/batch", write_key: {env: LSYNC_WK}}
        """,
    )
    problems = offline(tmp_path)
    kind = at(problems, 5, 40)
    assert (
        kind.message == "source 'sms' (listrak_sms) needs a listrak credential, but 'ftp' is sftp"
    )
    assert at(problems, 8, 17).hint == "did you mean 'email'?"
    unset = at(problems, 11, 73)
    assert unset.message == "environment variable LSYNC_WK is not set"
    assert unset.hint == "export LSYNC_WK=..."
    assert len(problems) == 3


def test_write_keys_resolve_at_their_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "")
    other = tmp_path / "sources.yml"
    other.write_text(
        "ignored: [by, load_section]\n"
        "sources:\n"
        "  news:\n"
        "    type: listrak_email\n"
        "    credential: email\n"
        "    list_id: 5\n"
        "    events: {sink: {type: http, write_key: {secret: segment_key}}}\n"
    )
    project = load_project(tmp_path)
    config, marked = load_section(other, "sources")
    sink = config.sources["news"].events.sink  # type: ignore[union-attr]
    assert isinstance(sink, HttpSink)
    path = ("sources", "news", "events", "sink", "write_key")
    with pytest.raises(ProjectError) as caught:
        resolve_secret(project, sink.write_key, path, marked=marked)
    (problem,) = caught.value.problems
    assert problem.location() == f"{other}:7:44"
    assert "secret 'segment_key' is not in secrets.yml" in problem.message
    write(tmp_path, "", secrets="email_secret: s\nsegment_key: wk-123")
    key = resolve_secret(load_project(tmp_path), sink.write_key, path, marked=marked)
    assert key.get_secret_value() == "wk-123"

    other.write_text("sources:\n  news: {type: listrak_email, credential: email, list_idd: 5}\n")
    with pytest.raises(ProjectError) as caught:
        load_section(other, "sources")
    assert [p.location() for p in caught.value.problems] == [f"{other}:2:50"]


# --- event destination --------------------------------------------------------------------


def test_event_destinations_are_project_destinations(tmp_path: Path) -> None:
    write(
        tmp_path,
        f"""
        destinations:
          segment_events:
            type: listrak_events
            credential: email
            write_keys: ["{HASH}"]
            mappings:
              audiences:
                trigger: {{event: [Audience Entered, Audience Exited]}}
                action: {{list_id: 1001, audience: {{field_group: Segment Audiences}}}}
        """,
    )
    assert offline(tmp_path) == []
    destination = load_project(tmp_path).config.destinations["segment_events"]
    assert isinstance(destination, EventDestination)
    assert list(destination.mappings) == ["audiences"]


def test_bad_event_mappings_at_their_place(tmp_path: Path) -> None:
    write(
        tmp_path,
        f"""
        destinations:
          segment_events:
            type: listrak_events
            credential: email
            write_keys: ["{HASH}"]
            mappings:
              plan:
                trigger:
                  all:
                    - {{type: trak}}
                    - {{event: Plan Changed, evnt: x}}
                    - {{property: plan}}
                action:
                  list_id: 1001
                  fields: {{2001: "$.properties[plan"}}
              bad name: {{trigger: {{type: track}}, action: {{list_id: 1, fields: {{1: x}}}}}}
        """,
    )
    problems = offline(tmp_path)
    assert "'trak' is not allowed" in at(problems, 13, 22).message
    assert at(problems, 14, 37).hint == "did you mean 'event'?"
    assert "missing required field 'equals'" in at(problems, 15, 15).message
    path = at(problems, 18, 19)
    assert path.message.startswith("destinations.segment_events.mappings.plan.action.fields:")
    assert "$.properties[plan" in path.message
    assert "name 'bad name' is not allowed" in at(problems, 19, 7).message
    assert len(problems) == 5


def test_event_destination_references(tmp_path: Path) -> None:
    write(
        tmp_path,
        f"""
        destinations:
          segment_events:
            type: listrak_events
            credential: emial
            write_keys: ["{HASH}"]
            mappings:
              plan:
                trigger: {{event: Plan Changed}}
                action: {{list_id: 1001, fields: {{2001: gold}}, credential: ftp}}
        segments:
          s: {{sql: select customer_id from customer_360}}
        campaigns:
          c: {{segment: s, groups: [{{name: A, percent: 100, destinations: [segment_events]}}]}}
        """,
    )
    problems = offline(tmp_path)
    assert at(problems, 7, 17).hint == "did you mean 'email'?"
    kind = at(problems, 12, 67)
    assert "needs a listrak credential, but 'ftp' is sftp" in kind.message
    sends = at(problems, 16, 67)
    assert "receives events (`listrak-sync serve`), not campaign audiences" in sends.message
    assert len(problems) == 3


# --- SFTP logins ----------------------------------------------------------------------------


def test_a_literal_sftp_password_is_refused(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
        destinations:
          ftp_upload:
            type: listrak_files
            sftp:
              host: ftp.listrak.com
              username: acme
              password: hunter2-literal
              private_key: ~/.ssh/id_ed25519
        """,
    )
    problems = offline(tmp_path)
    password = at(problems, 10, 17)
    assert password.message.startswith(
        "destinations.ftp_upload.sftp.password: `password` may not be written in the project file"
    )
    assert password.hint is not None
    assert "credential: NAME" in password.hint
    assert "{env: VARIABLE}" in password.hint
    assert "comes from the credential" in at(problems, 9, 17).message  # username
    assert "`private_key` may not be written" in at(problems, 11, 20).message
    assert "missing required field 'credential'" in at(problems, 8, 7).message
    assert len(problems) == 4
    assert all("hunter2" not in str(p) for p in problems)


def test_sftp_logins_come_from_the_credential(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
        destinations:
          ftp_upload:
            type: listrak_files
            sftp: {host: 127.0.0.1, port: 2222, credential: ftp, known_hosts: keys/known_hosts}
          wrong:
            type: listrak_files
            sftp: {credential: email}
        """,
    )
    problems = offline(tmp_path)
    (problem,) = problems
    assert (problem.line, problem.column) == (10, 24)
    assert "needs a sftp credential, but 'email' is listrak" in problem.message
    target = sftp_target(load_project(tmp_path), "ftp_upload")
    assert (target.host, target.port, target.username) == ("127.0.0.1", 2222, "acme")
    assert target.private_key is None
    assert target.password is None
    assert target.private_key_data is not None
    assert target.private_key_data.get_secret_value() == "k"
    assert target.passphrase is not None
    assert target.passphrase.get_secret_value() == "pp-value"
    assert target.known_hosts == tmp_path / "keys" / "known_hosts"
    assert "pp-value" not in repr(target)
    with pytest.raises(ProjectError):
        sftp_target(load_project(tmp_path), "nope")
