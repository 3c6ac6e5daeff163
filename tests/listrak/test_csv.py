"""Import files: CSV parts under a byte limit, from Python rows and from Arrow batches."""

from __future__ import annotations

import base64
import csv
import io
import json

import pyarrow as pa
import pytest

from listrak_sync.listrak import ImportColumn
from listrak_sync.listrak._csv import csv_parts
from listrak_sync.listrak._imports import file_body

COLUMNS = [ImportColumn("email", "Email"), ImportColumn("first_name", "SegmentationField", 7)]


def _read(part: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(part.decode())))


def test_one_part_when_it_fits() -> None:
    parts = list(csv_parts([("a@x.com", "Ann"), ("b@x.com", None)], COLUMNS, max_bytes=1000))
    assert len(parts) == 1
    assert _read(parts[0].data) == [["email", "first_name"], ["a@x.com", "Ann"], ["b@x.com", ""]]


def test_split_keeps_every_row_once_and_repeats_the_header() -> None:
    rows = [(f"user{i}@example.com", f'Name, "{i}"') for i in range(500)]
    parts = list(csv_parts(rows, COLUMNS, max_bytes=2000))
    assert len(parts) > 5
    assert all(len(part.data) <= 2000 for part in parts)
    seen = []
    for part in parts:
        lines = _read(part.data)
        assert lines[0] == ["email", "first_name"]
        assert len(lines) - 1 == part.rows
        seen.extend(tuple(line) for line in lines[1:])
    assert seen == rows
    starts = [1 + sum(q.rows for q in parts[:i]) for i in range(len(parts))]
    assert [p.first_row for p in parts] == starts


def test_arrow_batches_split_without_losing_rows() -> None:
    emails = [f"user{i}@example.com" for i in range(3000)]
    names = [None if i % 7 == 0 else f"N{i}" for i in range(3000)]
    batch = pa.record_batch({"email": emails, "first_name": names})
    parts = list(csv_parts([batch, batch.slice(0, 10)], COLUMNS, max_bytes=10_000))
    assert len(parts) > 3
    assert all(len(part.data) <= 10_000 for part in parts)
    rows = [line for part in parts for line in _read(part.data)[1:]]
    assert [r[0] for r in rows] == emails + emails[:10]
    assert rows[7] == ["user7@example.com", ""]
    assert sum(part.rows for part in parts) == 3010


def test_wrong_width_row_is_named() -> None:
    with pytest.raises(ValueError, match=r"row 2: 1 values for 2 columns"):
        list(csv_parts([("a@x.com", "A"), ("b@x.com",)], COLUMNS, max_bytes=1000))


def test_row_larger_than_the_limit_is_named() -> None:
    with pytest.raises(ValueError, match=r"row 2: .* more than the import file limit"):
        list(csv_parts([("a@x.com", "A"), ("b@x.com", "B" * 500)], COLUMNS, max_bytes=100))


async def test_streamed_body_is_the_json_listrak_expects() -> None:
    data = bytes(range(256)) * 50_000  # several base64 chunks
    body = file_body({"fileName": "f.csv", "fileMappings": [], "fileStream": None}, data)
    raw = b"".join([chunk async for chunk in body.chunks()])
    assert len(raw) == body.length
    parsed = json.loads(raw)
    assert base64.b64decode(parsed["fileStream"]) == data
    assert parsed["fileName"] == "f.csv"
    # A retry gets the same bytes again.
    assert b"".join([chunk async for chunk in body.chunks()]) == raw
