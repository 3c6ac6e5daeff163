"""An SMS sync killed with SIGKILL at any point is finished by the next ``sync``.

The CLI runs in a real subprocess; ``LISTRAK_SYNC_PAUSE_AT`` stops it at a named point and the
test kills it there. The next ``sync`` must reach the state an uninterrupted run reaches, and an
import whose id was journaled is polled, not sent again.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SMS_CLIENT
from tests.sync.helpers import CLI, cli_env, kill_sync_at
from tests.sync.spark import on_spark

from .conftest import LIST, SECRET_ENV, Person, SmsProject

STAY = range(100, 120)  # members who stay; 100..104 change tier
LEAVE = range(120, 130)  # members who leave
BACK = range(130, 140)  # left the list before, come back (subscribe + attribute import)
NEW = range(140, 160)  # new numbers (create-and-subscribe)


def _phone(n: int) -> str:
    return f"+1215555{n:04d}"


def _seed(project: SmsProject) -> None:
    project.seed(
        [{"phoneNumber": _phone(n), "subscriptions": [LIST]} for n in [*STAY, *LEAVE]]
        + [
            {
                "phoneNumber": _phone(n),
                "subscriptions": [{"phoneListId": LIST, "state": "Unsubscribed"}],
            }
            for n in BACK
        ]
    )


def _people(changed: bool) -> list[Person]:
    if not changed:
        return [Person(n, _phone(n), f"P{n}", "Gold") for n in [*STAY, *LEAVE]]
    return [
        Person(n, _phone(n), f"P{n}", "Platinum" if n < 105 else "Gold")
        for n in [*STAY, *BACK, *NEW]
    ]


def _env(project: SmsProject, point: str | None) -> dict[str, str]:
    return cli_env(project.root, SECRET_ENV, SMS_CLIENT[1], point)


def _kill_at(project: SmsProject, point: str) -> None:
    kill_sync_at(project.root, ["texts"], point, _env(project, point))


def _imports(project: SmsProject) -> list[dict[str, Any]]:
    return list(project.emulator.admin.state()["sms"].get("imports", []))


POINTS = [
    "planned",
    "halfway:add-0001",  # half of the per-contact calls made
    "submitted:add-0001",  # the attribute import reached Listrak, the journal does not know
    "journaled:update-0001",  # the import id is journaled, the import may still run
    "done:unsubscribe-0001",
    "before_commit",
    "committed",  # the snapshot is in place, the run record is not finished
]
QUICK = {"halfway:add-0001", "journaled:update-0001"}


@pytest.mark.parametrize(
    "point", [p if p in QUICK else pytest.param(p, marks=pytest.mark.slow) for p in POINTS]
)
def test_sms_sync_killed_at_any_point_resumes(sms_project: SmsProject, point: str) -> None:
    _killed_and_resumed(sms_project, point)


@pytest.mark.spark
def test_sms_sync_planned_inside_spark_killed_after_its_plan_resumes(
    sms_project: SmsProject, spark_engine: str
) -> None:
    """The same on ``warehouse.connection: local[*]`` (planned inside Spark), killed with the
    attribute import's id journaled and the import possibly still running."""
    _killed_and_resumed(sms_project, "journaled:update-0001", spark=True)


def _killed_and_resumed(sms_project: SmsProject, point: str, *, spark: bool = False) -> None:
    sms_project.destination = {"removal_guard": 0.5}
    sms_project.write_config()
    _seed(sms_project)
    sms_project.people(_people(changed=False))
    if spark:
        on_spark(sms_project.root)
    assert sms_project.sync().status == "succeeded"
    imports_before = len(_imports(sms_project))
    sms_project.people(_people(changed=True))
    if spark:
        on_spark(sms_project.root)

    _kill_at(sms_project, point)
    finish_killed_run(sms_project, sms_project.root, point, imports_before)


def finish_killed_run(
    sms_project: SmsProject, root: Path, point: str, imports_before: int
) -> dict[str, Any]:
    """Run ``sync`` in ``root`` after a kill at ``point``; check that it finished the killed run
    and ended as an uninterrupted run would. Returns the unit of its JSON report."""
    finished = subprocess.run(
        [CLI, "sync", "texts", "--json", "-p", str(root)],
        env=_env(sms_project, None),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stderr + finished.stdout
    unit: dict[str, Any] = json.loads(finished.stdout)["units"][0]
    assert unit["status"] == "succeeded"
    assert len(unit["resumed"]) == 1
    assert unit["plan"]["steps"] == []  # the resumed run did everything
    expected = {_phone(n) for n in [*STAY, *BACK, *NEW]}
    assert sms_project.members() == expected
    contacts = sms_project.contacts()
    for n in [*STAY, *BACK, *NEW]:
        values = {
            v["segmentationFieldId"]: v["value"]
            for v in contacts[_phone(n)]["segmentationFieldValues"]
        }
        assert values.get(7003) == ("Platinum" if n < 105 else "Gold"), n
    # Two imports in the second run (changed members; returning contacts), each sent once —
    # except a kill between Listrak's answer and the journal, which sends that file again.
    sent = len(_imports(sms_project)) - imports_before
    assert sent == (3 if point == "submitted:add-0001" else 2)
    return unit
