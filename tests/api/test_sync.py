"""``listrak_sync.plan`` / ``sync`` from Python, against the emulator and a DuckDB file."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
import yaml

import listrak_sync
from listrak_sync.errors import ExitCode, RemovalRefused
from listrak_sync.listrak import ClientSettings, Credentials, ListrakClient
from listrak_sync.project import ProjectError
from listrak_sync.state import StateStore
from listrak_sync.sync.workspace import Workspace
from listrak_sync.warehouse import connect
from tests.conftest import EMAIL_CLIENT
from tests.sync.helpers import CLI, FAST, SyncProject, flags, people, seed_list


def test_sync_in_a_few_lines(project: SyncProject) -> None:
    seed_list(project.emulator)
    project.set_people(people(5))

    planned = listrak_sync.plan(project.root, "spring", client_settings=FAST, full=True)
    assert planned.planned
    assert planned.ok
    assert planned.units[0].status == "planned"
    assert planned.units[0].plan is not None
    assert planned.units[0].plan.counts["enter"] == 5

    result = listrak_sync.sync(listrak_sync.load_project(project.root), "spring",
                               client_settings=FAST)  # fmt: skip
    assert result.raise_for_status() is result
    assert result.exit_code == ExitCode.OK
    assert [unit.status for unit in result.units] == ["succeeded"]
    assert result.as_dict()["units"][0]["target"] == "spring/newsletter"
    assert len(flags(project.emulator)) == 5


async def test_sync_async_runs_in_a_running_loop_with_the_callers_client_and_warehouse(
    project: SyncProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_list(project.emulator)
    project.set_people(people(3))
    # The caller brings the credentials: the project's secret need not be set.
    monkeypatch.delenv("LSYNC_TEST_EMAIL_SECRET")
    settings = ClientSettings.for_base_url(project.emulator.base_url, **FAST)
    credentials = Credentials(client_id=EMAIL_CLIENT[0], client_secret=EMAIL_CLIENT[1])
    with connect(project.root / "warehouse.duckdb") as warehouse:
        async with ListrakClient(settings=settings, email=credentials) as client:
            result = await listrak_sync.sync_async(
                project.root, "spring", client=client, warehouse=warehouse
            )
            assert result.ok, result.as_dict()
            # Both are still the caller's to use (and close).
            assert "Newsletter" in [found.list_name for found in await client.email.lists()]
        assert warehouse.query("SELECT count(*) AS n FROM customer_360").column(0)[0].as_py() == 3
    assert len(flags(project.emulator)) == 3


def test_a_removal_the_guard_stops_raises_removal_refused(project: SyncProject) -> None:
    seed_list(project.emulator)
    project.set_people(people(10))
    listrak_sync.sync(project.root, "spring", client_settings=FAST).raise_for_status()
    project.set_people(people(10, in_audience=False))

    result = listrak_sync.sync(project.root, "spring", client_settings=FAST)

    assert result.exit_code == ExitCode.REMOVAL_GUARD
    with pytest.raises(RemovalRefused) as raised:
        result.raise_for_status()
    assert raised.value.exit_code == 4
    assert "spring/newsletter refused" in str(raised.value)
    assert raised.value.hint is not None
    assert "allow_large_removal" in raised.value.hint


def _name_a_missing_segment(project: SyncProject) -> None:
    config = yaml.safe_load((project.root / "listrak-sync.yml").read_text())
    config["campaigns"]["spring"]["segment"] = "no_such_segment"
    (project.root / "listrak-sync.yml").write_text(yaml.safe_dump(config, sort_keys=False))


def test_sync_refuses_a_project_validate_would_fail_before_running(project: SyncProject) -> None:
    """Issue 12: a campaign naming a missing segment left a failed run and a traceback."""
    project.set_people(people(2))
    _name_a_missing_segment(project)

    with pytest.raises(ProjectError) as raised:
        listrak_sync.sync(project.root, "spring", client_settings=FAST)

    (problem,) = [p for p in raised.value.problems if "no_such_segment" in p.message]
    assert problem.file.endswith("listrak-sync.yml")
    assert problem.line > 0
    state = Workspace.in_project(project.root).state_path
    if state.exists():
        with StateStore(state) as store:
            assert store.runs(limit=10) == []


def test_cli_sync_of_an_invalid_project_reports_file_line_column(project: SyncProject) -> None:
    project.set_people(people(2))
    _name_a_missing_segment(project)

    for command in ("plan", "sync"):
        done = project.cli(command, "spring")
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr + done.stdout
        assert "listrak-sync.yml:" in done.stderr
        assert "no_such_segment" in done.stderr
    assert project.cli("runs").returncode in (0, 1)
    assert "spring" not in project.cli("runs").stdout


def test_ctrl_c_exits_130_and_the_next_sync_finishes_the_run(project: SyncProject) -> None:
    seed_list(project.emulator)
    project.set_people(people(3))
    signal_file = project.root / "paused"
    process = subprocess.Popen(
        [CLI, "sync", "spring", "-p", str(project.root)],
        env=project.cli_env("planned"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while not signal_file.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the sync never reached `planned`"
            time.sleep(0.02)
        # asyncio cancels the run on the first SIGINT and raises KeyboardInterrupt on the second;
        # the run sleeps at the pause point, so it takes the second. No more: a third during the
        # shutdown would kill the process.
        process.send_signal(signal.SIGINT)
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == ExitCode.INTERRUPTED, stderr
    assert "interrupted; run `sync` again to resume" in stderr
    assert "Traceback" not in stderr

    resumed = project.cli("sync", "spring")
    assert resumed.returncode == 0, resumed.stderr
    assert "finished interrupted run" in resumed.stdout
    assert len(flags(project.emulator)) == 3
