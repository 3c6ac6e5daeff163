"""``listrak-sync sync`` start-up: the command line's own CPU, before and outside a sync's phases.

Run with ``.venv/bin/pytest -m benchmark benchmarks/bench_cli_startup.py -s``. Each command is
the real CLI in a subprocess; its CPU (user + system) is the children's ``getrusage`` delta, which
holds under load (the emulator serves from a thread of this process, so it is not counted).

- ``sync --help``: the command's import alone.
- ``sync spring -p EMPTY``: a sync that stops at a missing project file.
- a real sync of a 5-member project with one change per run: the whole process, and the part of
  it outside the run's phases (prepare, audience, plan, apply, commit: ``cpu_seconds`` of the
  run record) — start-up, loading and checking the project, and exit.

Baseline in the same run: ``BENCH_STARTUP_BASELINE=DIR`` names an older checkout's ``src``
folder (``git archive COMMIT src | tar -x -C DIR``); its runs alternate with this tree's, each
with ``PYTHONPATH=DIR/src`` (the editable install's path entry comes after it).
``BENCH_STARTUP_RUNS`` sets the runs per command (default 5).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import pytest
from tests.conftest import Emulator, emulator, emulator_server, realism
from tests.sync.helpers import CLI, SyncProject, people, seed_list

__all__ = ["emulator", "emulator_server", "realism"]  # fixtures used here

pytestmark = pytest.mark.benchmark

RUNS = int(os.environ.get("BENCH_STARTUP_RUNS", "5"))
BASELINE = os.environ.get("BENCH_STARTUP_BASELINE")


def _timed(args: list[str], env: Mapping[str, str]) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, exit code) of ``args`` in a subprocess."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, done.returncode


def _phases_cpu(root: Path, env: Mapping[str, str]) -> float:
    """CPU seconds of the last run's phases (its run record's ``cpu_seconds``)."""
    runs = subprocess.run(
        [CLI, "runs", "--json", "-p", str(root)], env=env, capture_output=True, text=True
    )
    run_id = json.loads(runs.stdout)[0]["run_id"]
    shown = subprocess.run(
        [CLI, "runs", run_id, "--json", "-p", str(root)], env=env, capture_output=True, text=True
    )
    return float(sum(json.loads(shown.stdout)["details"]["cpu_seconds"].values()))


def _line(label: str, figures: list[float]) -> str:
    return (
        f"{label}: median {statistics.median(figures):.2f} s "
        f"(min {min(figures):.2f}, max {max(figures):.2f}, {len(figures)} runs)"
    )


def test_sync_start_up_cpu(emulator: Emulator, tmp_path: Path) -> None:
    project = SyncProject(tmp_path / "project", emulator)
    project.root.mkdir()
    project.write_config()
    seed_list(emulator)
    members = people(5)
    project.set_people(members)
    empty = tmp_path / "empty"
    empty.mkdir()
    trees = {"this tree": None, **({"baseline": BASELINE} if BASELINE else {})}
    envs: dict[str, dict[str, str]] = {}
    for name, src in trees.items():
        env = project.cli_env()
        env.pop("PYTHONPATH", None)
        if src is not None:
            env["PYTHONPATH"] = str(Path(src) / "src")
        envs[name] = env
    # The first sync (list and fields made, the first import) is not timed.
    _, _, code = _timed([CLI, "sync", project.campaign, "-p", str(project.root)], envs["this tree"])
    assert code == 0

    figures: dict[tuple[str, str], list[float]] = {}
    walls: dict[tuple[str, str], list[float]] = {}
    for run in range(RUNS):
        for name, env in envs.items():
            for label, args, expected in (
                ("sync --help (CPU)", [CLI, "sync", "--help"], 0),
                ("sync, no project (CPU)", [CLI, "sync", "spring", "-p", str(empty)], 1),
            ):
                cpu, wall, code = _timed(args, env)
                assert code == expected, (label, code)
                figures.setdefault((name, label), []).append(cpu)
                walls.setdefault((name, label), []).append(wall)
            # One member's city changes: the sync sends one row.
            members[0].city = f"City{run}-{name}"
            project.set_people(members)
            cpu, wall, code = _timed([CLI, "sync", project.campaign, "-p", str(project.root)], env)
            assert code == 0
            phases = _phases_cpu(project.root, env)
            figures.setdefault((name, "tiny sync, whole process (CPU)"), []).append(cpu)
            figures.setdefault((name, "tiny sync, outside its phases (CPU)"), []).append(
                cpu - phases
            )
            walls.setdefault((name, "tiny sync, whole process (CPU)"), []).append(wall)

    print(f"\nload average at the end: {os.getloadavg()}")
    for (name, label), values in figures.items():
        print(_line(f"{name}: {label}", values))
        if (name, label) in walls:
            print(_line(f"{name}: {label.replace('(CPU)', '(wall)')}", walls[name, label]))
    if BASELINE:
        for label in {label for _, label in figures}:
            ratio = statistics.median(figures["baseline", label]) / statistics.median(
                figures["this tree", label]
            )
            print(f"{label}: baseline / this tree = {ratio:.2f}x")
