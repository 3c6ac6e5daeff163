"""Campaign audiences on a real DuckDB file: exclusions, keys, dedupe, consent, attributes."""

from __future__ import annotations

from pathlib import Path

from listrak_sync.audiences.campaigns import AudienceUnit, CampaignAudience
from listrak_sync.audiences.keys import PHONE_CACHE
from listrak_sync.project.loader import parse_project
from listrak_sync.warehouse import Warehouse

from .conftest import BASE_CONFIG, make_project

ONE_GROUP = """
segments:
  everyone: {sql: "SELECT customer_id FROM customer_360"}
  canadians: {filter: {attribute: country, op: eq, value: CA}}
campaigns:
  launch:
    segment: everyone
    groups: [{name: all, percent: 100, destinations: [news, texts]}]
"""


def unit(project_body: str, tmp_path: Path, warehouse: Warehouse, destination: str,
         campaign: str = "launch") -> AudienceUnit:  # fmt: skip
    project = make_project(tmp_path, project_body)
    audience = CampaignAudience(project.config, warehouse, campaign)
    return next(u for u in audience.units() if u.destination == destination)


def delivered(u: AudienceUnit) -> list[dict[str, object]]:
    rows = [row for batch in u.batches() for row in batch.to_pylist()]
    return sorted(rows, key=lambda r: str(r["customer_id"]))


def test_email_audience_keys_dedupe_and_rejects(tmp_path: Path, warehouse: Warehouse) -> None:
    u = unit(ONE_GROUP, tmp_path, warehouse, "news")
    rows = delivered(u)
    # c1 and c4 share ann@example.com once normalised; the lowest customer id wins by default.
    assert [(r["customer_id"], r["email"]) for r in rows] == [
        ("c1", "ann@example.com"),
        ("c2", "bob@example.com"),
        ("c6", "eve@example.com"),
    ]
    assert u.columns == ["customer_id", "treatment_group", "email", "first_name", "Tier"]
    assert rows[0]["Tier"] == "gold"
    assert rows[0]["first_name"] == "Ann"
    report = u.report
    assert report.total("ok") == 3
    assert report.total("duplicate") == 1
    assert report.total("invalid_key") == 1
    assert report.total("missing_key") == 1
    assert report.total() == 6  # every customer is accounted for
    rejected = {r["customer_key"]: r for r in report.rejected_sample}
    assert rejected["c3"]["raw_key"] == "not-an-email"
    assert rejected["c3"]["status"] == "invalid_key"
    assert rejected["c4"]["status"] == "duplicate"
    assert rejected["c5"]["status"] == "missing_key"
    # The engine-side counts agree with what streaming saw.
    assert u.counts().counts == report.counts


def test_dedupe_prefers_configured_columns(tmp_path: Path, warehouse: Warehouse) -> None:
    body = ONE_GROUP + "    dedupe: {prefer: [{column: ltv, order: asc}]}\n"
    rows = delivered(unit(body, tmp_path, warehouse, "news"))
    assert ("c4", "ann@example.com") in [(r["customer_id"], r["email"]) for r in rows]
    body = ONE_GROUP + "    dedupe: {prefer: [{column: ltv, order: desc}]}\n"
    rows = delivered(unit(body, tmp_path, warehouse, "news"))
    assert ("c1", "ann@example.com") in [(r["customer_id"], r["email"]) for r in rows]


def test_dedupe_ties_and_nulls_fall_back_to_lowest_key(
    tmp_path: Path, warehouse: Warehouse
) -> None:
    warehouse.execute("UPDATE merged_customers SET ltv = NULL WHERE customer_id = 'c1'")
    body = ONE_GROUP + "    dedupe: {prefer: [{column: ltv, order: desc}]}\n"
    rows = delivered(unit(body, tmp_path, warehouse, "news"))
    # c1's ltv is missing: nulls sort last, so c4 (800) wins.
    assert ("c4", "ann@example.com") in [(r["customer_id"], r["email"]) for r in rows]
    warehouse.execute("UPDATE merged_customers SET ltv = 800 WHERE customer_id = 'c1'")
    rows = delivered(unit(body, tmp_path, warehouse, "news"))
    assert ("c1", "ann@example.com") in [(r["customer_id"], r["email"]) for r in rows]


def test_sms_audience_normalises_phones_and_requires_consent(
    tmp_path: Path, warehouse: Warehouse
) -> None:
    u = unit(ONE_GROUP, tmp_path, warehouse, "texts")
    rows = delivered(u)
    assert [(r["customer_id"], r["phone"]) for r in rows] == [
        ("c1", "+16175550101"),
        ("c3", "+14165550103"),
    ]
    statuses = {r["customer_key"]: r["status"] for r in u.report.rejected_sample}
    assert statuses == {
        "c2": "no_consent",  # valid number, opted out
        "c4": "invalid_key",  # a London number read as a US one
        "c5": "invalid_key",
        "c6": "missing_key",
    }
    reasons = {r["customer_key"]: r["reason"] for r in u.report.rejected_sample}
    assert "not a valid number" in str(reasons["c4"]) or "not a phone number" in str(reasons["c4"])


def test_sms_consent_can_be_turned_off(tmp_path: Path, warehouse: Warehouse) -> None:
    text = BASE_CONFIG.replace("list_id: 70", "list_id: 70\n    require_consent: false")
    loaded = parse_project(text + ONE_GROUP, tmp_path)
    audience = CampaignAudience(loaded.config, warehouse, "launch")
    u = next(x for x in audience.units() if x.destination == "texts")
    assert {r["customer_id"] for r in delivered(u)} == {"c1", "c2", "c3"}


def test_phones_are_normalised_once(tmp_path: Path, warehouse: Warehouse) -> None:
    delivered(unit(ONE_GROUP, tmp_path, warehouse, "texts"))
    cached = warehouse.query(
        f"SELECT count(*) AS n FROM {warehouse.scratch_table(PHONE_CACHE)}"
    ).to_pylist()[0]["n"]
    assert cached == 5 + 3  # the distinct raw phones of the audience and the consent table
    delivered(unit(ONE_GROUP, tmp_path, warehouse, "texts"))
    again = warehouse.query(
        f"SELECT count(*) AS n FROM {warehouse.scratch_table(PHONE_CACHE)}"
    ).to_pylist()[0]["n"]
    assert again == cached


def test_consent_table_phones_in_any_format(tmp_path: Path, warehouse: Warehouse) -> None:
    warehouse.execute(
        "UPDATE sms_opt_status SET phone = '+1 (617) 555-0102', status = 'OPTED_IN' "
        "WHERE phone = '+16175550102'"
    )
    rows = delivered(unit(ONE_GROUP, tmp_path, warehouse, "texts"))
    assert {r["customer_id"] for r in rows} == {"c1", "c2", "c3"}


def test_mixed_consent_history(tmp_path: Path, warehouse: Warehouse) -> None:
    warehouse.execute(
        "ALTER TABLE sms_opt_status ADD COLUMN updated_at TIMESTAMP;"
        "UPDATE sms_opt_status SET updated_at = TIMESTAMP '2026-01-01';"
        "INSERT INTO sms_opt_status VALUES ('+16175550101', 'opted_out', TIMESTAMP '2025-01-01')"
    )
    # Without an updated column any opt-out row withholds consent...
    rows = delivered(unit(ONE_GROUP, tmp_path, warehouse, "texts"))
    assert {r["customer_id"] for r in rows} == {"c3"}
    # ...with one, the latest row decides (c1 opted in again after opting out).
    text = "warehouse: {sms_opt_status: {updated_column: updated_at}}\n" + BASE_CONFIG + ONE_GROUP
    audience = CampaignAudience(parse_project(text, tmp_path).config, warehouse, "launch")
    u = next(x for x in audience.units() if x.destination == "texts")
    assert {r["customer_id"] for r in delivered(u)} == {"c1", "c3"}


def test_exclusions_remove_members(tmp_path: Path, warehouse: Warehouse) -> None:
    body = ONE_GROUP + "    exclude: [canadians]\n"
    u = unit(body, tmp_path, warehouse, "news")
    list(u.batches())
    assert u.report.total() == 5
    assert "c3" not in {r["customer_key"] for r in u.report.rejected_sample}


def test_attribute_edits_per_campaign(tmp_path: Path, warehouse: Warehouse) -> None:
    body = ONE_GROUP + (
        "    destinations:\n"
        "      news:\n"
        "        remove_attributes: [Tier]\n"
        "        add_attributes: [{column: city, field: City}, ltv]\n"
    )
    u = unit(body, tmp_path, warehouse, "news")
    assert u.columns == ["customer_id", "treatment_group", "email", "first_name", "City", "ltv"]
    rows = delivered(u)
    assert rows[0]["City"] == "Boston"
    replaced = ONE_GROUP + "    destinations:\n      news: {attributes: [country]}\n"
    assert unit(replaced, tmp_path, warehouse, "news").columns[3:] == ["country"]


def test_attribute_table_is_configurable(tmp_path: Path, warehouse: Warehouse) -> None:
    warehouse.execute(
        "CREATE TABLE crm_profiles AS SELECT customer_id, upper(first_name) AS first_name, "
        "tier, email, phone FROM customer_360"
    )
    body = ONE_GROUP + "    attribute_table: crm_profiles\n"
    rows = delivered(unit(body, tmp_path, warehouse, "news"))
    assert rows[0]["first_name"] == "ANN"


def test_groups_sent_separately_or_together(tmp_path: Path, warehouse: Warehouse) -> None:
    body = """
segments:
  everyone: {sql: "SELECT customer_id FROM customer_360"}
campaigns:
  ab:
    segment: everyone
    send_groups: separately
    groups:
      - {name: A, percent: 50, destinations: [news]}
      - {name: B, percent: 50, destinations: [news]}
"""
    project = make_project(tmp_path, body)
    audience = CampaignAudience(project.config, warehouse, "ab")
    units = audience.units()
    assert [(u.destination, u.group, u.audience_name) for u in units] == [
        ("news", "A", "ab_A"),
        ("news", "B", "ab_B"),
    ]
    per_group = [{r["treatment_group"] for r in delivered(u)} for u in units]
    assert all(len(groups) <= 1 for groups in per_group)
    total = sum(len(delivered(u)) for u in units)
    together = make_project(tmp_path, body.replace("separately", "together"))
    (one,) = CampaignAudience(together.config, warehouse, "ab").units()
    assert one.group is None
    assert one.audience_name == "ab"
    assert len(delivered(one)) == total == 3  # dedupe spans the groups either way


def test_control_group_receives_nothing(tmp_path: Path, warehouse: Warehouse) -> None:
    body = """
segments:
  everyone: {sql: "SELECT customer_id FROM customer_360"}
campaigns:
  held:
    segment: everyone
    groups: [{name: A, percent: 50, destinations: [news]}]
    control: {percent: 50}
"""
    project = make_project(tmp_path, body)
    audience = CampaignAudience(project.config, warehouse, "held")
    sizes = audience.group_sizes()
    assert list(sizes) == ["A", "control"]
    assert sum(sizes.values()) == 6
    (u,) = audience.units()
    list(u.batches())
    assert u.report.total() == sizes["A"]
    assert {g for g, _ in u.report.counts} <= {"A"}
