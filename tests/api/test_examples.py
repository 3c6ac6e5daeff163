"""examples/library: a campaign sync from a script and from a scheduler's task, on the emulator."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from listrak_sync.errors import RemovalRefused
from tests.sync.helpers import SyncProject, flags, people, seed_list

EXAMPLES = Path(__file__).parent.parent.parent / "examples" / "library"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_script_syncs_and_exits_like_the_command(
    project: SyncProject, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_list(project.emulator)
    project.set_people(people(4))
    script = _load("sync_campaign")

    assert script.main(str(project.root), "spring") == 0
    assert "spring/newsletter: succeeded" in capsys.readouterr().out
    assert len(flags(project.emulator)) == 4

    config = yaml.safe_load((project.root / "listrak-sync.yml").read_text())
    config["campaigns"]["spring"]["segment"] = "nowhere"
    (project.root / "listrak-sync.yml").write_text(yaml.safe_dump(config))
    assert script.main(str(project.root), "spring") == 1
    assert "nowhere" in capsys.readouterr().err


def test_the_task_returns_the_result_and_raises_when_a_sync_is_not_clean(
    project: SyncProject,
) -> None:
    seed_list(project.emulator)
    project.set_people(people(10))
    tasks = _load("tasks")

    done = tasks.sync_campaign_task(str(project.root), "spring", ti="ignored")
    assert done["exit_code"] == 0
    assert done["units"][0]["status"] == "succeeded"

    project.set_people(people(10, in_audience=False))
    with pytest.raises(RemovalRefused):
        tasks.sync_campaign_task(str(project.root), "spring")


async def test_the_async_task_runs_inside_the_schedulers_event_loop(project: SyncProject) -> None:
    seed_list(project.emulator)
    project.set_people(people(2))
    tasks = _load("tasks")

    done = await tasks.sync_campaign_task_async(str(project.root), "spring")
    assert done["units"][0]["status"] == "succeeded"
