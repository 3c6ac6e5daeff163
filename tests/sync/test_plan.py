"""The plan and the next snapshot, on real Parquet files and DuckDB (no Listrak involved)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from listrak_sync.sync import StepGroup, effect_rows
from listrak_sync.sync.plan import SNAPSHOT_SCHEMA, PlanFiles, audience_schema, remote_schema


def _audience(files: PlanFiles, rows: list[tuple[str, str | None]]) -> None:
    schema = audience_schema(1)
    table = pa.table(
        [
            [f"C{i}" for i in range(len(rows))],
            ["all"] * len(rows),
            [key for key, _ in rows],
            [city for _, city in rows],
        ],
        schema=schema,
    )
    assert files.load_audience(table.to_batches()) == len(rows)


def _snapshot(path: Path, rows: list[dict[str, object]]) -> Path:
    full = [
        {
            "attr_hash": None,
            "member": True,
            "owned": False,
            "declined": False,
            "state": None,
            "run_id": "r0",
            **row,
        }
        for row in rows
    ]
    pq.write_table(pa.Table.from_pylist(full, schema=SNAPSHOT_SCHEMA), path)
    return path


def _hash_of(files: PlanFiles, city: str | None) -> str:
    """The hash the plan gives a member with ``city``, read back from a one-row plan."""
    probe = PlanFiles(files.workdir / "probe", 1)
    probe.workdir.mkdir(exist_ok=True)
    _audience(probe, [("x@example.com", city)])
    probe.previous_from_snapshot(None)
    probe.build([])
    return str(pq.read_table(probe.plan).column("attr_hash")[0].as_py())


GROUPS = [
    StepGroup("add", "change = 'enter'", max_rows=2),
    StepGroup("update", "change = 'change'"),
    StepGroup("flag_off", "change = 'leave' AND NOT prev_declined", removes=True),
]


@pytest.fixture
def files(tmp_path: Path) -> PlanFiles:
    return PlanFiles(tmp_path, 1)


def test_changes_are_classified_and_cut_into_steps(files: PlanFiles, tmp_path: Path) -> None:
    same_hash = _hash_of(files, "Boston")
    snapshot = _snapshot(
        tmp_path / "snap.parquet",
        [
            {"key": "same@x.com", "attr_hash": same_hash},
            {"key": "moved@x.com", "attr_hash": same_hash},
            {"key": "gone@x.com", "attr_hash": same_hash, "owned": True},
            {"key": "back@x.com", "attr_hash": same_hash, "member": False},
            {"key": "outside@x.com", "member": False},
            {"key": "unsub@x.com", "declined": True},
        ],
    )
    _audience(
        files,
        [
            ("same@x.com", "Boston"),
            ("moved@x.com", "Denver"),
            ("back@x.com", "Boston"),
            ("new1@x.com", "Reno"),
            ("new2@x.com", ""),
        ],
    )
    files.previous_from_snapshot(snapshot)

    summary = files.build(GROUPS)

    assert summary.counts == {"enter": 3, "change": 1, "same": 1, "leave": 2, "rest": 1}
    assert [(s.step_id, s.rows) for s in summary.steps] == [
        ("add-0001", 2),
        ("add-0002", 1),
        ("update-0001", 1),
        ("flag_off-0001", 1),
    ]
    assert summary.removals == 1  # the declined leaver is taken by no group
    assert summary.members == 3  # previous members; declined and flagged-off ones excluded
    rows = {r["key"]: r for r in pq.read_table(files.plan).to_pylist()}
    assert rows["gone@x.com"]["prev_owned"] is True
    assert rows["unsub@x.com"]["step_id"] is None
    assert files.step_rows("add-0001").column("key").to_pylist() == ["back@x.com", "new1@x.com"]


def test_empty_and_missing_attributes_hash_alike(files: PlanFiles) -> None:
    assert _hash_of(files, "") == _hash_of(files, None) != _hash_of(files, "Reno")


def test_parts_respect_the_byte_budget(files: PlanFiles) -> None:
    _audience(files, [(f"member{i:03d}@example.com", "x" * 50) for i in range(30)])
    files.previous_from_snapshot(None)

    summary = files.build([StepGroup("add", "change = 'enter'", max_bytes=600)])

    assert len(summary.steps) > 3
    assert sum(s.rows for s in summary.steps) == 30
    # Each row is estimated at 25 + 3 + 2 * 50 + 3 bytes: at most four fit in 600.
    assert max(s.rows for s in summary.steps) <= 4


def test_next_snapshot_follows_each_effect(files: PlanFiles, tmp_path: Path) -> None:
    snapshot = _snapshot(
        tmp_path / "snap.parquet",
        [
            {"key": "same@x.com", "attr_hash": "h-same", "owned": True},
            {"key": "leaver@x.com", "attr_hash": "h-old", "owned": True},
            {"key": "vanished@x.com", "attr_hash": "h-old"},
            {"key": "changed-fail@x.com", "attr_hash": "h-old"},
        ],
    )
    _audience(
        files,
        [
            ("same@x.com", None),
            ("new@x.com", "A"),
            ("refused@x.com", "B"),
            ("bad@x.com", "C"),
            ("changed-fail@x.com", "D"),
        ],
    )
    files.previous_from_snapshot(snapshot)
    # "same" gets a hash the snapshot does not have: make it an unchanged member instead.
    summary = files.build(
        [
            StepGroup("add", "change = 'enter'"),
            StepGroup("update", "change = 'change' AND key <> 'same@x.com'"),
            StepGroup("flag_off", "change = 'leave'"),
        ]
    )
    assert {s.step_id for s in summary.steps} == {"add-0001", "update-0001", "flag_off-0001"}
    files.save_results(
        "add-0001",
        effect_rows(
            ["refused@x.com", "bad@x.com"],
            ["declined", "failed"],
            ["PreviouslyUnsubscribed", "Banned"],
            [None, None],
        ),
    )
    files.save_results(
        "flag_off-0001",
        effect_rows(["vanished@x.com"], ["absent"], ["SkippedNotOnList"], [None]),
    )
    defaults = {
        "add-0001": ("added", "Subscribed"),
        "update-0001": ("failed", "SkippedInvalidValue"),
        "flag_off-0001": ("applied", "Updated"),
    }

    rows = {r["key"]: r for batch in files.next_snapshot(defaults, "r1") for r in batch.to_pylist()}

    assert set(rows) == {
        "same@x.com",
        "new@x.com",
        "refused@x.com",
        "leaver@x.com",
        "changed-fail@x.com",
    }
    assert rows["new@x.com"]["owned"] is True
    assert rows["new@x.com"]["run_id"] == "r1"
    assert rows["refused@x.com"]["declined"] is True
    assert rows["refused@x.com"]["member"] is True
    assert rows["leaver@x.com"]["member"] is False
    assert rows["leaver@x.com"]["owned"] is True
    assert rows["leaver@x.com"]["attr_hash"] == "h-old"
    # A failed update keeps the previous row, so the change is tried again next run.
    assert rows["changed-fail@x.com"]["attr_hash"] == "h-old"
    assert rows["changed-fail@x.com"]["run_id"] == "r0"
    assert rows["same@x.com"]["owned"] is True
    assert rows["same@x.com"]["member"] is True


def test_previous_from_remote_keeps_ownership(files: PlanFiles, tmp_path: Path) -> None:
    snapshot = _snapshot(
        tmp_path / "snap.parquet",
        [{"key": "mine@x.com", "owned": True}, {"key": "left-list@x.com", "owned": True}],
    )
    pq.write_table(
        pa.table(
            [
                ["mine@x.com", "theirs@x.com", "recorded@x.com"],
                [True, False, True],
                [True, True, True],
                ["Boston", None, None],
                [None, None, True],  # ownership as Listrak records it (the owner field)
            ],
            schema=remote_schema(1),
        ),
        files.remote,
    )

    files.previous_from_remote(snapshot)

    rows = {r["key"]: r for r in pq.read_table(files.previous).to_pylist()}
    assert rows["mine@x.com"]["owned"] is True
    assert rows["mine@x.com"]["member"] is True
    assert rows["theirs@x.com"]["owned"] is False
    assert rows["theirs@x.com"]["member"] is False
    assert rows["left-list@x.com"]["member"] is False  # not subscribed in Listrak any more
    assert rows["mine@x.com"]["attr_hash"] is not None
    assert rows["recorded@x.com"]["owned"] is True  # known from Listrak without a snapshot


def test_unchanged_rows_stay_out_of_the_plan_and_keep_their_snapshot_row(
    files: PlanFiles, tmp_path: Path
) -> None:
    boston = _hash_of(files, "Boston")
    kept = [
        {"key": "same@x.com", "attr_hash": boston, "owned": True, "state": "s1", "run_id": "r0"},
        {"key": "outside@x.com", "member": False, "declined": True, "run_id": "r9"},
    ]
    snapshot = _snapshot(tmp_path / "snap.parquet", [*kept, {"key": "gone@x.com"}])
    _audience(files, [("same@x.com", "Boston"), ("new@x.com", "Reno")])
    files.previous_from_snapshot(snapshot)

    summary = files.build(GROUPS)

    assert summary.counts == {"enter": 1, "change": 0, "same": 1, "leave": 1, "rest": 1}
    assert sorted(pq.read_table(files.plan).column("key").to_pylist()) == [
        "gone@x.com",
        "new@x.com",
    ]
    defaults = {"add-0001": ("added", "Subscribed"), "flag_off-0001": ("applied", "Updated")}
    rows = {r["key"]: r for batch in files.next_snapshot(defaults, "r1") for r in batch.to_pylist()}
    expected = pa.Table.from_pylist(
        [
            {"attr_hash": None, "member": True, "owned": False, "declined": False, "state": None}
            | row
            for row in kept
        ],
        schema=SNAPSHOT_SCHEMA,
    ).to_pylist()
    assert [rows["same@x.com"], rows["outside@x.com"]] == expected
    assert rows["new@x.com"]["run_id"] == rows["gone@x.com"]["run_id"] == "r1"
    assert rows["gone@x.com"]["member"] is False


def test_build_needs_a_loaded_audience(files: PlanFiles) -> None:
    files.previous_from_snapshot(None)
    with pytest.raises(RuntimeError, match="load_audience"):
        files.build(GROUPS)
