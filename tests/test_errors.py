"""One error tree under ``ListrakSyncError``; each class carries its exit code and hint, and the
command maps them to exit codes in one place (cli.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from listrak_sync.audiences.errors import AudienceError, Issue
from listrak_sync.cli import app
from listrak_sync.errors import (
    EXIT_CODE_MEANINGS,
    ExitCode,
    ListrakSyncError,
    RemovalRefused,
    RunsFailed,
    RunsLocked,
    RunsPartial,
    UsageError,
)
from listrak_sync.events.intake import IntakeError
from listrak_sync.files.export import ExportError
from listrak_sync.files.mapping import MappingError
from listrak_sync.files.sftp import SftpError
from listrak_sync.listrak import (
    AuthError,
    BulkImportError,
    ConfigurationError,
    ImportFailed,
    ListrakApiError,
    ListrakError,
    ListrakResponseError,
    NotFound,
    RateLimited,
    ServerError,
    TransportError,
)
from listrak_sync.project.problems import Problem, ProjectError
from listrak_sync.state import LockHeld
from listrak_sync.sync.errors import SyncError
from listrak_sync.warehouse import TableNotFound, WarehouseError


@pytest.mark.parametrize(
    "error",
    [
        AudienceError,
        ExportError,
        IntakeError,
        ListrakError,
        LockHeld,
        MappingError,
        ProjectError,
        SftpError,
        SyncError,
        TableNotFound,
        WarehouseError,
        UsageError,
        RunsPartial,
    ],
)
def test_every_error_root_is_a_listrak_sync_error(error: type[Exception]) -> None:
    assert issubclass(error, ListrakSyncError)


def test_errors_that_came_with_an_answer_share_a_parent() -> None:
    answered = [AuthError, NotFound, RateLimited, ServerError, ListrakApiError, ImportFailed]
    assert all(issubclass(error, ListrakResponseError) for error in answered)
    assert issubclass(BulkImportError, ListrakResponseError)
    assert not issubclass(TransportError, ListrakResponseError)
    assert not issubclass(ConfigurationError, ListrakResponseError)


def test_each_class_carries_its_exit_code() -> None:
    assert ListrakError("x").exit_code == ExitCode.ERROR
    assert LockHeld("sync:a", "r1", "host", 1).exit_code == ExitCode.LOCK_HELD == 5
    assert UsageError("x").exit_code == ExitCode.USAGE == 2
    assert RunsPartial("x").exit_code == 3
    assert RemovalRefused("x").exit_code == 4
    assert RunsLocked("x").exit_code == 5
    assert RunsFailed("x").exit_code == 1
    assert set(EXIT_CODE_MEANINGS) == set(ExitCode)
    assert ExitCode.INTERRUPTED == 130


def test_errors_that_gather_problems_report_one_line_each_with_its_hint() -> None:
    project = ProjectError(
        [
            Problem("p.yml", 3, 5, "unknown segment 'x'", "did you mean 'y'?"),
            Problem("p.yml", 1, 1, "a"),
        ]
    )
    assert project.report() == [
        ("p.yml:1:1: a", None),
        ("p.yml:3:5: unknown segment 'x'", "did you mean 'y'?"),
    ]
    audience = AudienceError([Issue("no column 'z'", "columns: a, b", sql_line=2, sql_column=7)])
    assert audience.report() == [("line 2, column 7: no column 'z'", "columns: a, b")]
    assert UsageError("no source named 'x'", hint="sources: a").report() == [
        ("no source named 'x'", "sources: a")
    ]


def _project(root: Path, sources: str = "") -> Path:
    root.mkdir()
    (root / "listrak-sync.yml").write_text(
        "version: 1\nwarehouse: {connection: warehouse.duckdb}\n" + sources
    )
    return root


def test_the_command_prints_the_error_and_its_hint_and_exits_with_its_code(tmp_path: Path) -> None:
    root = _project(tmp_path / "project")

    missing_run = CliRunner().invoke(app, ["runs", "nope", "-p", str(root)])
    assert missing_run.exit_code == 1

    no_sources = CliRunner().invoke(app, ["pull", "-p", str(root)])
    assert no_sources.exit_code == 1
    assert "error: " in no_sources.output
    assert "no sources configured" in no_sources.output
    assert "hint: add a `sources:` section" in no_sources.output
    assert "Traceback" not in no_sources.output
