"""A sync killed with SIGKILL at any point is finished by the next ``sync``, exactly once.

The CLI runs in a real subprocess; ``LISTRAK_SYNC_PAUSE_AT`` makes it stop at a named point and
the test kills it there. The next ``sync`` must reach the same final state as an uninterrupted
run, and every import of the killed run must have been started exactly once.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from listrak_sync.state import StateStore
from listrak_sync.sync import Workspace
from listrak_sync.sync.spark_snapshots import snapshot_table
from tests.sync.helpers import Person, SyncProject, flags, list_state, people, seed_list
from tests.sync.spark import on_spark, on_spark_connect, snapshot_tables

SMALL_FILES = {"max_import_bytes": 300}  # several imports per step kind


def _changed_audience() -> list[Person]:
    """Relative to people(12): 1..3 leave, 4..5 change city, 13..20 enter."""
    moved = [Person(p.customer_id, p.email, p.first_name, "Denver") for p in people(2, start=4)]
    return moved + people(7, start=6) + people(8, start=13)


def _expected_flags() -> dict[str, str]:
    on = {f"person{i}@example.com": "on" for i in range(4, 21)}
    return {**on, **{f"person{i}@example.com": "off" for i in (1, 2, 3)}}


def _killed_run(project: SyncProject) -> str:
    with StateStore(Workspace.in_project(project.root).state_path) as store:
        runs = store.runs("sync", "spring/newsletter")
    return runs[0].run_id


POINTS = [
    "planned",
    "before_step:add-0001",
    "submitted:add-0001",  # the import reached Listrak, the journal does not know yet
    "journaled:update-0001",
    "done:add-0002",
    "before_commit",
    "committed",  # the snapshot is in place, the run record is not finished
]
QUICK = {"submitted:add-0001", "journaled:update-0001", "before_commit"}


@pytest.mark.parametrize(
    "point",
    [p if p in QUICK else pytest.param(p, marks=pytest.mark.slow) for p in POINTS],
)
def test_sync_killed_at_any_point_resumes_without_resending(
    project: SyncProject, point: str
) -> None:
    _killed_and_resumed(project, point)


@pytest.mark.spark
def test_sync_planned_inside_spark_killed_after_its_plan_resumes(
    project: SyncProject, spark_engine: str
) -> None:
    """The same on ``warehouse.connection: local[*]`` (planned inside Spark), killed when
    Listrak has an import the journal does not know of."""
    _killed_and_resumed(project, "submitted:add-0001", on_spark)


@pytest.mark.spark
@pytest.mark.parametrize(
    # After the plan is the embedded Spark test's point too (above): behind -m slow here.
    "point",
    [pytest.param("planned", marks=pytest.mark.slow), "committed"],
)
def test_sync_planned_in_a_spark_connect_cluster_killed_resumes(
    project: SyncProject, spark_connect_url: str, point: str
) -> None:
    """Over Spark Connect with ``warehouse.snapshots``: the second run plans inside the cluster
    against the first run's snapshot table, and is killed after its plan or once its snapshot
    is written (the state store's file and the cluster's table) but before the run is finished.
    The resumed run finishes it; the run after plans inside the cluster against the resumed
    run's table and finds nothing to do; only its own table is left."""
    namespace = f"snapshots_{uuid.uuid4().hex[:8]}"

    def move(root: Path) -> None:
        on_spark_connect(root, spark_connect_url, namespace)

    killed = _killed_and_resumed(project, point, move)
    with StateStore(Workspace.in_project(project.root).state_path) as store:
        fresh, resumed, first = store.runs("sync", "spring/newsletter", limit=3)
    assert resumed.run_id == killed
    # Only the first run read the audience into the host: the others planned in the cluster,
    # the run after the resume against the table the resumed run recorded.
    planned_on_host = ["audience" in r.details["timings"] for r in (fresh, resumed, first)]
    assert planned_on_host == [False, False, True]
    assert snapshot_tables(spark_connect_url, namespace) == [
        snapshot_table(namespace, "spring/newsletter", fresh.run_id)
    ]


def _killed_and_resumed(
    project: SyncProject, point: str, move: Callable[[Path], None] | None = None
) -> str:
    seed_list(project.emulator)
    project.set_people(people(12))
    if move:
        move(project.root)
    assert project.sync(client=SMALL_FILES).status == "succeeded"
    project.set_people(_changed_audience())
    project.write_config(removal_guard=0.5)
    if move:
        move(project.root)

    project.kill_at(point, client=SMALL_FILES)
    killed = _killed_run(project)
    sent_before = Counter(str(i["importFileName"]) for i in list_state(project.emulator)["imports"])

    finished = project.cli("sync", "spring", "--json", client=SMALL_FILES)

    assert finished.returncode == 0, finished.stderr
    document = json.loads(finished.stdout)
    unit = document["units"][0]
    assert unit["status"] == "succeeded"
    assert [r["run_id"] for r in unit["resumed"]] == [killed]
    assert unit["resumed"][0]["status"] == "succeeded"
    # The fresh run after the resume finds nothing left to do.
    assert unit["plan"]["steps"] == []
    assert flags(project.emulator) == _expected_flags()
    contacts = list_state(project.emulator)["contacts"]
    assert contacts["person4@example.com"]["segmentationFieldValues"]["City"] == "Denver"
    assert contacts["person20@example.com"]["segmentationFieldValues"]["FirstName"] == "First20"
    # Each import of the killed run was started once, and those started before the kill were
    # not started again.
    names = Counter(
        str(i["importFileName"])
        for i in list_state(project.emulator)["imports"]
        if killed in str(i["importFileName"])
    )
    assert set(names.values()) == {1}
    with StateStore(Workspace.in_project(project.root).state_path) as store:
        steps = store.steps(killed)
        run = store.run(killed)
    assert len(names) == len(steps)
    assert all(s.status == "done" for s in steps)
    assert {k: v for k, v in sent_before.items() if killed in k}.items() <= names.items()
    assert run.counts["enter"] == 8
    assert run.counts["leave"] == 3
    assert run.counts["change"] == 2
    return killed


def test_a_run_killed_while_planning_is_marked_interrupted(project: SyncProject) -> None:
    seed_list(project.emulator)
    project.set_people(people(3))
    # Stop after the plan is journaled but make the journal say "planning": as if killed
    # before the plan was complete.
    project.kill_at("planned")
    run_id = _killed_run(project)
    with StateStore(Workspace.in_project(project.root).state_path) as store:
        store.update_run(run_id, details={"phase": "planning"})

    result = project.cli("sync", "spring")

    assert result.returncode == 0, result.stderr
    with StateStore(Workspace.in_project(project.root).state_path) as store:
        old = store.run(run_id)
    assert old.status == "interrupted"
    assert old.error == "stopped before its plan was complete; nothing was sent"
    assert set(flags(project.emulator).values()) == {"on"}


@pytest.mark.parametrize("point", ["submitted:add-0001", "owner_submitted:add-0001"])
def test_mirror_killed_around_the_owner_import_records_ownership_once(
    project: SyncProject, point: str
) -> None:
    project.write_config(mode="mirror")
    seed_list(project.emulator)
    project.set_people(people(4))

    project.kill_at(point)
    killed = _killed_run(project)
    finished = project.cli("sync", "spring")

    assert finished.returncode == 0, finished.stderr
    contacts = list_state(project.emulator)["contacts"]
    assert {c["segmentationFieldValues"].get("spring_added") for c in contacts.values()} == {"on"}
    names = Counter(
        str(i["importFileName"])
        for i in list_state(project.emulator)["imports"]
        if killed in str(i["importFileName"])
    )
    assert names == {
        f"listrak-sync-{killed}-add-0001.csv": 1,
        f"listrak-sync-{killed}-add-0001-owner.csv": 1,
    }


ONE_AT_A_TIME = {"max_concurrency": 1}  # no call in flight at a checkpoint: exact counts


@pytest.mark.parametrize(
    "point",
    [
        "halfway:add-0001",
        "halfway:flag_off-0001",
        pytest.param("done:update-0001", marks=pytest.mark.slow),
        pytest.param("before_commit", marks=pytest.mark.slow),
    ],
)
def test_per_contact_sync_killed_midway_resumes_without_resending(
    project: SyncProject, point: str
) -> None:
    project.write_config(writes="contacts")
    seed_list(project.emulator)
    project.set_people(people(12))
    assert project.sync(client=ONE_AT_A_TIME).status == "succeeded"
    project.set_people(_changed_audience())
    project.write_config(writes="contacts", removal_guard=0.5)
    project.emulator.admin.clear_requests()

    project.kill_at(point, client=ONE_AT_A_TIME)
    killed = _killed_run(project)
    finished = project.cli("sync", "spring", "--json", client=ONE_AT_A_TIME)

    assert finished.returncode == 0, finished.stderr
    unit = json.loads(finished.stdout)["units"][0]
    assert [r["run_id"] for r in unit["resumed"]] == [killed]
    assert unit["resumed"][0]["status"] == "succeeded"
    assert unit["plan"]["steps"] == []
    assert flags(project.emulator) == _expected_flags()
    contacts = list_state(project.emulator)["contacts"]
    assert contacts["person4@example.com"]["segmentationFieldValues"]["City"] == "Denver"
    assert contacts["person20@example.com"]["segmentationFieldValues"]["FirstName"] == "First20"
    # Every contact was written exactly once across the killed and the resumed process:
    # 8 added, 2 updated and 3 flagged off. The updates and flags each read the contact first;
    # a read another step had answered when the process froze is read again (at most one per
    # step in flight). At ``done:`` the engine has yielded between the step's last call and
    # the point, so another step's one call in flight (concurrency 1) may be sent again: every
    # call is safe to repeat, and it changes nothing.
    calls = project.emulator.admin.requests()
    in_flight = 1 if point.startswith("done:") else 0
    assert 8 + 2 + 3 <= calls.get("Contact_PostContactResource", 0) <= 8 + 2 + 3 + in_flight
    assert 2 + 3 <= calls.get("Contact_GetContactResourceByIdentifier", 0) <= 2 + 3 + 2
    assert not [
        i for i in list_state(project.emulator)["imports"] if killed in str(i["importFileName"])
    ]
    with StateStore(Workspace.in_project(project.root).state_path) as store:
        run = store.run(killed)
        paths = {(s.result or {}).get("path") for s in store.steps(killed)}
    assert paths == {"contacts"}
    # The resumed run counts what an uninterrupted one does: 8 contacts added by the sync —
    # except an add sent again after a lost answer, which reads "already subscribed" (the
    # safe side: mode mirror never removes it).
    assert run.counts["added"] + run.counts["applied"] == 13
    assert 8 - in_flight <= run.counts["added"] <= 8
