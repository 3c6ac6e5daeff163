"""Segment insights on the hand-made warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest

from listrak_sync.audiences.errors import AudienceError
from listrak_sync.audiences.insights import segment_insights
from listrak_sync.audiences.segments import SegmentResolver
from listrak_sync.warehouse import Warehouse

from .conftest import AS_OF, make_project

SEGMENTS = """
segments:
  everyone: {sql: "SELECT customer_id FROM customer_360"}
  us: {filter: {attribute: country, op: eq, value: US}}
"""


def resolver(tmp_path: Path, warehouse: Warehouse) -> SegmentResolver:
    return SegmentResolver(make_project(tmp_path, SEGMENTS).config, warehouse, as_of=AS_OF)


def test_size_and_reach(tmp_path: Path, warehouse: Warehouse) -> None:
    insights = segment_insights(resolver(tmp_path, warehouse), "everyone")
    assert insights.size == 6
    # c1 and c4 (same address, counted per customer) and c6; bob unsubscribed, c3 invalid.
    assert insights.reachable_email == 3
    # c1 and c3 are opted in; c2 opted out; c4/c5 invalid numbers; c6 has none.
    assert insights.reachable_sms == 2
    assert insights.notes == []


def test_breakdown_by_attribute(tmp_path: Path, warehouse: Warehouse) -> None:
    insights = segment_insights(resolver(tmp_path, warehouse), "us", by="tier", reach=False)
    assert insights.size == 4
    assert insights.reachable_email is None
    assert insights.breakdown_by == "tier"
    assert sorted(insights.breakdown, key=str) == sorted(
        [("gold", 1), ("silver", 1), ("bronze", 1), ("platinum", 1)], key=str
    )


def test_breakdown_by_unknown_attribute(tmp_path: Path, warehouse: Warehouse) -> None:
    with pytest.raises(AudienceError) as caught:
        segment_insights(resolver(tmp_path, warehouse), "us", by="tierr", reach=False)
    assert caught.value.issues[0].hint == "did you mean 'tier'?"


def test_missing_opt_status_tables_are_noted(tmp_path: Path, warehouse: Warehouse) -> None:
    warehouse.execute("DROP TABLE email_opt_status; DROP TABLE sms_opt_status")
    insights = segment_insights(resolver(tmp_path, warehouse), "everyone")
    assert insights.reachable_email == 4  # bob counts again
    assert insights.reachable_sms == 0
    assert len(insights.notes) == 2
