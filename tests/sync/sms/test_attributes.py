"""Attributes: matching profile fields by name or id, type and length checks, bulk updates."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from listrak_sync.listrak import PhoneAttribute
from listrak_sync.sync.sms.fields import MAX_ATTRIBUTES, match_fields

from .conftest import LIST, Person, SmsProject, outcomes

TYPED = [
    {"column": "first_name", "field": "FIRST NAME"},
    {"column": "loyalty_tier", "field": "loyalty-tier"},
    {"column": "lifetime_value", "field": "Lifetime Value"},
    {"column": "prefers_texts", "field": "prefers_texts"},
    {"column": "member_since", "field": 7006},
]


def _values(project: SmsProject, phone: str) -> dict[int, str]:
    contact: dict[str, Any] = project.contacts()[phone]
    return {v["segmentationFieldId"]: v["value"] for v in contact["segmentationFieldValues"]}


def test_typed_values_are_normalised_and_refused_values_reported(sms_project: SmsProject) -> None:
    sms_project.attributes = TYPED
    sms_project.write_config()
    sms_project.seed()
    sms_project.people(
        [
            Person(1, "+12155550101", "Ava", "Gold", "412.50", "yes", "3/4/2021"),
            Person(2, "+12155550102", "Ben", "Silver", "lots", "no", "2020-01-31"),
            Person(3, "+12155550103", "Cleo", "A" * 21, "1", "true", "2021-01-01"),
            Person(4, "+12155550104", "Dev", None, None, "maybe", None),
            Person(5, "+12155550105", "Eli", None, None, None, "02/30/2020"),
        ]
    )
    outcome = sms_project.sync()
    # Refused values are declined for good (a warning, exit 0), naming the field.
    assert outcome.status == "succeeded"
    assert sms_project.members() == {"+12155550101"}
    assert _values(sms_project, "+12155550101") == {
        7003: "Gold",
        7004: "412.50",
        7005: "true",
        7006: "2021-03-04",
    }
    assert outcome.run is not None
    found = outcomes(sms_project, outcome.run.run_id)
    assert found["+12155550102"][0] == "invalid_value"
    assert "Lifetime Value" in (found["+12155550102"][1] or "")
    assert "20 characters" in (found["+12155550103"][1] or "")
    assert "Prefers Texts" in (found["+12155550104"][1] or "")
    assert "Member Since" in (found["+12155550105"][1] or "")
    with sms_project.store() as store:
        fields = {o.key: o.field for o in store.outcomes(outcome.run.run_id)}
    assert fields["+12155550102"] == "Lifetime Value"
    assert fields["+12155550104"] == "Prefers Texts"
    assert any("invalid_value (Lifetime Value) 1" in w for w in outcome.warnings)
    plan = sms_project.plan()
    assert any("Lifetime Value" in w for w in plan.warnings)
    # Not sent again until the row's data changes.
    assert plan.plan is not None
    assert plan.plan.steps == []


def test_unmatched_and_disabled_fields_stop_the_run_naming_them(sms_project: SmsProject) -> None:
    sms_project.attributes = [
        {"column": "first_name", "field": "First Name"},
        {"column": "loyalty_tier", "field": "Shoe Size"},
        {"column": "lifetime_value", "field": "Legacy"},
    ]
    sms_project.write_config()
    sms_project.seed()
    sms_project.people([Person(1, "+12155550101", "Ava")])
    outcome = sms_project.sync()
    assert outcome.status == "failed"
    assert "'Shoe Size' matches no SMS profile field" in (outcome.error or "")
    assert "Loyalty Tier" in (outcome.error or "")  # the hint lists the fields
    assert "'Legacy'" in (outcome.error or "")
    assert "disabled" in (outcome.error or "")
    assert sms_project.members() == set()


def test_custom_attributes_need_match_custom_fields(sms_project: SmsProject) -> None:
    sms_project.destination = {"match_custom_fields": False}
    sms_project.write_config()
    sms_project.seed()
    sms_project.people([Person(1, "+12155550101", "Ava", "Gold")])
    outcome = sms_project.sync()
    assert outcome.status == "failed"
    assert "'loyalty_tier' is a custom attribute" in (outcome.error or "")


def test_at_most_fifty_attributes() -> None:
    fields = [
        PhoneAttribute(segmentation_field_id=i, segmentation_field_name=f"F{i}", data_type="Text")
        for i in range(60)
    ]
    matches, issues = match_fields([f"F{i}" for i in range(MAX_ATTRIBUTES)], fields)
    assert len(matches) == MAX_ATTRIBUTES
    assert not issues
    _, issues = match_fields([f"F{i}" for i in range(MAX_ATTRIBUTES + 1)], fields)
    assert [i.message for i in issues] == ["51 attributes; an SMS list takes at most 50"]


def test_attribute_changes_of_members_go_in_one_bulk_import(sms_project: SmsProject) -> None:
    members = [
        {"phoneNumber": f"+1215555{n:04d}", "firstName": f"P{n}", "subscriptions": [LIST]}
        for n in range(100, 140)
    ]
    sms_project.seed(members)
    people = [Person(n, f"+1215555{n:04d}", f"P{n}", "Gold") for n in range(100, 140)]
    sms_project.people(people)
    first = sms_project.sync()
    assert first.status == "succeeded", first.error
    requests = sms_project.requests()
    # The first run writes every member's attributes, in one import (no per-contact call).
    assert requests.get("Contact_PostImportFileResource") == 1
    assert "Contact_PutContactResource" not in requests
    assert "Contact_PostContactListResource" not in requests
    sms_project.emulator.admin.clear_requests()
    for person in people[:5]:
        person.loyalty_tier = "Platinum"
    sms_project.people(people)
    second = sms_project.sync()
    assert second.status == "succeeded", second.error
    assert second.plan is not None
    assert second.plan.counts["change"] == 5
    assert sms_project.requests().get("Contact_PostImportFileResource") == 1
    assert _values(sms_project, "+12155550100")[7003] == "Platinum"
    assert _values(sms_project, "+12155550139")[7003] == "Gold"
    state = sms_project.emulator.admin.state()
    assert state["sms"]["imports"][-1]["summary"]["rows"] == 5
    # Nothing changed: nothing is sent.
    sms_project.emulator.admin.clear_requests()
    third = sms_project.sync()
    assert third.status == "succeeded", third.error
    assert "Contact_PostImportFileResource" not in sms_project.requests()


def test_check_values_keeps_nulls_unchanged() -> None:
    from listrak_sync.sync.sms.fields import FieldMatch, check_values

    match = FieldMatch("n", 1, "N", "Number", None)
    checked = check_values(pa.array([None, "7"], pa.string()), match)
    assert checked.text.to_pylist() == [None, "7"]
    assert checked.problem.to_pylist() == [None, None]
