"""A forgotten phone number: gone from every SMS list, and never texted or re-added again."""

from __future__ import annotations

import duckdb
import pytest
import yaml

from listrak_sync.api import forget
from listrak_sync.project.loader import load_project
from tests.conftest import PRIVACY_CLIENT
from tests.sync.sms.conftest import LIST, Person, SmsProject

PRIVACY_SECRET_ENV = "LSYNC_TEST_PRIVACY_SECRET"


def test_a_forgotten_phone_is_removed_and_never_synced_again(
    sms_project: SmsProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PRIVACY_SECRET_ENV, PRIVACY_CLIENT[1])
    config_file = sms_project.root / "listrak-sync.yml"
    config = yaml.safe_load(config_file.read_text())
    config["credentials"]["privacy"] = {
        "type": "listrak",
        "client_id": PRIVACY_CLIENT[0],
        "client_secret": {"env": PRIVACY_SECRET_ENV},
    }
    config["forget"] = {
        "credential": "privacy",
        "sql": "SELECT * FROM erase",
        "poll_interval": 0.05,
    }
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    sms_project.seed()
    sms_project.emulator.admin.seed({"privacy": {"processingSeconds": 0}})
    sms_project.people([Person(1, "(215) 555-0101", "Ada"), Person(2, "+1 215 555 0102", "Grace")])
    sms_project.sync()
    assert sms_project.members(LIST) == {"+12155550101", "+12155550102"}

    with duckdb.connect(str(sms_project.root / "warehouse.duckdb")) as con:
        con.execute(
            "CREATE TABLE erase AS SELECT NULL::VARCHAR AS email, '215.555.0102' AS phone, "
            "now() AS requested_at"
        )
    report = forget(load_project(sms_project.root))
    assert report.counts["complete"] == 1, report.as_dict()
    assert sms_project.members(LIST) == {"+12155550101"}
    assert "+12155550102" not in sms_project.contacts()

    plan = sms_project.plan()
    assert plan.audience["counts"]["forgotten"] == 1
    sms_project.emulator.admin.clear_requests()
    sms_project.sync()
    assert sms_project.members(LIST) == {"+12155550101"}
    assert "+12155550102" not in sms_project.contacts()
