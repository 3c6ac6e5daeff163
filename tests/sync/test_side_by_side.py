"""A running sync blocks nothing that only reads, and is never advised to be killed.

A real ``sync`` subprocess is paused after planning (holding its locks and the warehouse, as a
long run would) while other commands run beside it: a second sync of the same destination is
refused with exit 5 naming the run; plan, validate, segments and campaigns preview work; a
command that writes the warehouse says who holds it and exits 5. Then the paused sync is killed
and the next one finishes its run.
"""

from __future__ import annotations

from listrak_sync.state import StateStore
from listrak_sync.sync import Workspace
from tests.sync.helpers import SyncProject, flags, paused_sync, people, seed_list


def test_read_only_commands_and_a_second_sync_run_beside_a_sync(project: SyncProject) -> None:
    seed_list(project.emulator)
    project.set_people(people(5))
    env = project.cli_env("planned")
    with paused_sync(project.root, [project.campaign], "planned", env):
        with StateStore(Workspace.in_project(project.root).state_path) as store:
            (running,) = store.runs()
        assert running.status == "running"

        second = project.cli("sync", project.campaign)
        assert second.returncode == 5, second.stdout + second.stderr
        said = " ".join((second.stdout + second.stderr).split())
        assert f"run {running.run_id}" in said
        assert "runs unlock" not in said
        assert "kill" not in said

        for args in (
            ("plan", project.campaign),
            ("validate",),
            ("segments", "size", "members"),
            ("campaigns", "preview", project.campaign),
        ):
            result = project.cli(*args)
            assert result.returncode == 0, (args, result.stdout, result.stderr)

        writer = project.cli("runs", running.run_id, "--export-outcomes", "outcomes")
        assert writer.returncode == 5, writer.stdout + writer.stderr
        told = " ".join(writer.stderr.split())
        assert "waiting up to 10 s for the warehouse" in told
        assert "busy" in told
        assert "in use by process" in told
        assert "kill" not in told

    # The paused sync was killed after planning: the next sync finishes its run.
    assert project.cli("sync", project.campaign).returncode == 0
    assert flags(project.emulator) == {f"person{i}@example.com": "on" for i in range(1, 6)}
