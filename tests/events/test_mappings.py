"""Mapping config and evaluation: triggers, paths and their defaults, values, limits."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from listrak_sync.config.event_paths import MISSING, JsonPath
from listrak_sync.config.events import EventDestination
from listrak_sync.events import FieldName, Rejection, Update, apply_mappings
from tests.conftest import Emulator

from .conftest import (
    FIELD_PLAN,
    FIELD_TIER,
    LIST_A,
    StartServer,
    destination,
    field_values,
    seed_lists,
    wait_for,
)


def _dest(trigger: Any, **action: Any) -> EventDestination:
    action.setdefault("list_id", LIST_A)
    action.setdefault("fields", {FIELD_TIER: "on"})
    return destination(mappings={"m": {"trigger": trigger, "action": action}})


def _event(**members: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "track",
        "event": "Order Completed",
        "userId": "u1",
        "properties": {"plan": "gold", "total": 12, "member": True},
        "context": {"traits": {"email": "ann@example.com"}},
    }
    base.update(members)
    return base


@pytest.mark.parametrize(
    ("trigger", "matches"),
    [
        ({"type": "track"}, True),
        ({"type": ["identify", "page"]}, False),
        ({"event": "Order Completed"}, True),
        ({"event": "order completed"}, False),  # names compare exactly, as in Segment
        ({"event_not": ["Order Completed", "Refund"]}, False),
        ({"event_not": "Refund"}, True),
        ({"property": "plan", "equals": "gold"}, True),
        ({"property": "$.properties.total", "equals": 12}, True),
        ({"property": "total", "equals": "12"}, False),  # JSON types differ
        ({"property": "member", "equals": 1}, False),  # true is not 1
        ({"property": "missing", "equals": None}, False),
        ({"property": "$.context.traits.email", "equals": "ann@example.com"}, True),
        ({"all": [{"type": "track"}, {"event": "Order Completed"}]}, True),
        ({"all": [{"type": "track"}, {"event": "Refund"}]}, False),
        ({"any": [{"event": "Refund"}, {"property": "plan", "equals": "gold"}]}, True),
        ({"any": [{"all": [{"type": "identify"}]}, {"event_not": "Order Completed"}]}, False),
    ],
)
def test_trigger_conditions(trigger: Any, matches: bool) -> None:
    results = apply_mappings(_dest(trigger), _event())
    assert bool(results) is matches


def test_paths_and_their_defaults() -> None:
    dest = _dest({"type": ["track", "identify"]}, fields={FIELD_TIER: "$.properties.plan"})
    (update,) = apply_mappings(dest, _event())
    assert isinstance(update, Update)
    assert (update.email, update.fields) == ("ann@example.com", ((FIELD_TIER, "gold"),))
    # The default reads $.context.traits.email (track), then $.traits.email (Segment's identify).
    identify = {"type": "identify", "traits": {"email": "b@example.com"}, "properties": {"plan": 1}}
    (found,) = apply_mappings(dest, identify)
    assert isinstance(found, Update)
    assert (found.email, found.fields) == ("b@example.com", ((FIELD_TIER, "1"),))
    (refused,) = apply_mappings(dest, {"type": "identify", "traits": {"name": "b"}})
    assert isinstance(refused, Rejection)
    assert refused.reason == "no email address at $.context.traits.email or $.traits.email"
    fallback = _dest(
        {"type": "identify"},
        email=["$.context.traits.email", "$.traits.email"],
        fields={FIELD_TIER: "$.traits.tier", FIELD_PLAN: "$$literal"},
    )
    (update,) = apply_mappings(
        fallback, {"type": "identify", "traits": {"email": " b@example.com ", "tier": 2.0}}
    )
    assert isinstance(update, Update)
    assert update.email == "b@example.com"
    assert update.fields == ((FIELD_TIER, "2"), (FIELD_PLAN, "$literal"))


def test_values_and_refusals() -> None:
    dest = _dest({"type": "track"}, fields={FIELD_TIER: "$.properties.member", FIELD_PLAN: 7})
    (update,) = apply_mappings(dest, _event())
    assert isinstance(update, Update)
    assert update.fields == ((FIELD_TIER, "on"), (FIELD_PLAN, "7"))
    objects = _dest({"type": "track"}, fields={FIELD_TIER: "$.properties"})
    (refused,) = apply_mappings(objects, _event())
    assert isinstance(refused, Rejection)
    assert refused.reason == (
        f"profile field {FIELD_TIER}: the value at $.properties is an object; fields hold text"
    )
    absent = _dest({"type": "track"}, fields={FIELD_TIER: "$.properties.nothing"})
    (refused,) = apply_mappings(absent, _event())
    assert isinstance(refused, Rejection)
    assert refused.reason == "no profile field values in the event (looked at $.properties.nothing)"
    bad_email = apply_mappings(_dest({"type": "track"}), _event(context={"traits": {"email": 5}}))
    assert isinstance(bad_email[0], Rejection)
    assert bad_email[0].reason == "the value at $.context.traits.email is not an email address"


def test_audience_fields() -> None:
    dest = _dest({"type": ["track", "identify"]}, fields={}, audience={"field_group": "Aud"})
    entered = _event(event="Audience Entered", properties={"audience_key": "vip"})
    exited = _event(event="Audience Exited", properties={"audience_key": "vip"})
    engage = _event(
        event="Audience Exited", properties={"audience_key": "vip", "vip": True}
    )  # the flag wins over the name
    results = [apply_mappings(dest, e)[0] for e in (entered, exited, engage)]
    assert [r.fields for r in results if isinstance(r, Update)] == [
        ((FieldName("Aud", "vip", True), "on"),),
        ((FieldName("Aud", "vip", True), "off"),),
        ((FieldName("Aud", "vip", True), "on"),),
    ]
    (missing,) = apply_mappings(dest, _event(properties={}))
    assert isinstance(missing, Rejection)
    assert missing.reason == (
        "no audience key at $.properties.audience_key or $.context.personas.computation_key"
    )


def test_config_limits_and_errors() -> None:
    mapping = {"trigger": {"type": "track"}, "action": {"list_id": 1, "fields": {1: "on"}}}
    destination(mappings={f"m{i}": mapping for i in range(50)})
    with pytest.raises(ValidationError, match="at most 50 items"):
        destination(mappings={f"m{i}": mapping for i in range(51)})
    with pytest.raises(ValidationError, match="exactly one of: type, event"):
        destination(mappings={"m": {**mapping, "trigger": {"type": "track", "event": "X"}}})
    with pytest.raises(ValidationError, match=r"cannot read path '\$\.a\.\[' at character 4"):
        destination(mappings={"m": {**mapping, "action": {"list_id": 1, "fields": {1: "$.a.["}}}})
    with pytest.raises(ValidationError, match="give `fields`"):
        destination(mappings={"m": {**mapping, "action": {"list_id": 1}}})
    with pytest.raises(ValidationError, match="write keys are stored as hashes"):
        destination(write_keys=["plain-text-key"])


def test_json_paths() -> None:
    doc = {"a": {"b c": [1, {"d": None}]}, "x": 0}
    assert JsonPath.parse('$.a["b c"][1].d').get(doc) is None
    assert JsonPath.parse("$.a['b c'][-2]").get(doc) == 1
    assert JsonPath.parse("$.a.missing").get(doc) is MISSING
    assert JsonPath.parse("$.x[0]").get(doc) is MISSING
    assert JsonPath.parse("$").get(doc) == doc
    with pytest.raises(ValueError, match="starts with"):
        JsonPath.parse("a.b")


def test_trigger_and_path_defaults_over_http(emulator: Emulator, start_server: StartServer) -> None:
    emails = seed_lists(emulator, contacts=3)
    dest = destination(
        mappings={
            "gold_orders": {
                "trigger": {
                    "all": [
                        {"event": "Order Completed"},
                        {"property": "plan", "equals": "gold"},
                        {"event_not": "Refund"},
                    ]
                },
                "action": {"list_id": LIST_A, "fields": {FIELD_PLAN: "gold-buyer"}},
            }
        }
    )
    server = start_server(dest)
    events = [
        _event(context={"traits": {"email": emails[0]}}),
        _event(context={"traits": {"email": emails[1]}}, properties={"plan": "silver"}),
        _event(context={"traits": {"email": emails[2]}}, event="Refund"),
    ]
    assert server.post("/v1/batch", {"batch": events}).status_code == 200
    wait_for(
        lambda: field_values(emulator, LIST_A, [FIELD_PLAN])[emails[0]].get(FIELD_PLAN),
        what="the matching event's update",
    )
    values = field_values(emulator, LIST_A, [FIELD_PLAN])
    assert [values[e].get(FIELD_PLAN) for e in emails] == ["gold-buyer", None, None]


def test_a_field_takes_paths_tried_in_order() -> None:
    # Segment's libraries put identify traits under `traits`; RudderStack's only under
    # `context.traits`. One mapping serves both: the first path present wins.
    dest = _dest(
        {"type": "identify"},
        email=["$.traits.email", "$.context.traits.email"],
        fields={
            FIELD_TIER: ["$.traits.tier", "$.context.traits.tier"],
            FIELD_PLAN: ["$.traits.plan", "$.context.traits.plan", "basic"],  # literal fallback
        },
    )
    segment = {"type": "identify", "userId": "u", "traits": {"email": "s@example.com", "tier": 1}}
    rudder = {
        "type": "identify",
        "userId": "u",
        "context": {"traits": {"email": "r@example.com", "tier": "gold", "plan": None}},
    }
    both = {
        "type": "identify",
        "userId": "u",
        "traits": {"email": "b@example.com", "plan": "pro"},
        "context": {"traits": {"email": "old@example.com", "plan": "old", "tier": "t"}},
    }
    updates = [apply_mappings(dest, event)[0] for event in (segment, rudder, both)]
    assert [(u.email, u.fields) for u in updates if isinstance(u, Update)] == [
        ("s@example.com", ((FIELD_TIER, "1"), (FIELD_PLAN, "basic"))),
        ("r@example.com", ((FIELD_TIER, "gold"), (FIELD_PLAN, "basic"))),  # null is not present
        ("b@example.com", ((FIELD_TIER, "t"), (FIELD_PLAN, "pro"))),
    ]
    only_paths = _dest({"type": "identify"}, fields={FIELD_TIER: ["$.traits.x", "$.context.x"]})
    no_tier = {"type": "identify", "userId": "u", "context": {"traits": {"email": "r@x.com"}}}
    (refused,) = apply_mappings(only_paths, no_tier)
    assert isinstance(refused, Rejection)
    assert refused.reason == (
        "no profile field values in the event (looked at $.traits.x or $.context.x)"
    )
    with pytest.raises(ValidationError, match="an empty list of paths"):
        _dest({"type": "identify"}, fields={FIELD_TIER: []})
    with pytest.raises(ValidationError, match="cannot read path"):
        _dest({"type": "identify"}, fields={FIELD_TIER: ["$.ok", "$.a.["]})
