"""Column checks on Arrow batches: values in, clean values and row-level issues out."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from listrak_sync.config.datasets import DATASETS
from listrak_sync.config.files import ValidationRules
from listrak_sync.files import IssueLog
from listrak_sync.files.rules import BatchValidator, CheckedBatch, Target


def _check(
    dataset: str, columns: dict[str, list[Any]], target: Target = "file", **rules: Any
) -> tuple[CheckedBatch, IssueLog]:
    issues = IssueLog(dataset, sample_size=100)
    validator = BatchValidator(
        DATASETS[dataset],  # type: ignore[index]
        ValidationRules(**rules),
        target,
        issues,
        now=datetime(2026, 11, 23, tzinfo=UTC),
        today=date(2026, 11, 23),
    )
    batch = pa.RecordBatch.from_pydict(columns)
    return validator.check(batch, 1), issues


def _found(issues: IssueLog) -> set[tuple[int, str, str]]:
    return {(i.row, i.column, i.severity) for i in issues.sample}


def test_product_values_are_normalised() -> None:
    checked, issues = _check(
        "products",
        {
            "sku": ["A", "B", "C", "D", "E"],
            "title": ["<b>Top</b>", "WOMEN'S TOP", "Top 20% OFF", "Top", "Top"],
            "price": ["$1,024.50", "24.999", "abc", "-3", None],
            "qoh": ["45", "2.0", "1.5", "9999999999", None],
            "instock": ["Y", "no", "1", "maybe", None],
            "imageurl": ["https://x.io/a.jpg", None, "/a.jpg", None, None],
        },
    )
    assert checked.batch.column("title").to_pylist() == ["Top", "WOMEN'S TOP", "Top"]
    assert checked.batch.column("price").to_pylist() == [1024.5, 25.0, None]
    assert checked.batch.column("qoh").to_pylist() == [45, 2, None]
    assert checked.batch.column("instock").to_pylist() == [True, False, None]
    assert checked.rows.to_pylist() == [1, 2, 5]
    assert _found(issues) >= {
        (1, "title", "warning"),  # HTML removed
        (2, "title", "warning"),  # ALL CAPS
        (3, "title", "warning"),  # promotional text
        (3, "imageurl", "error"),
        (3, "price", "error"),
        (3, "qoh", "error"),
        (4, "qoh", "error"),
        (4, "instock", "error"),
        (4, "price", "warning"),  # negative
    }


def test_customer_places_gender_and_phone_settings() -> None:
    columns = {
        "email": ["a@x.io", "b@x.io", "c@x.io"],
        "gender": ["Male", "f", "prefer not"],
        "state": ["new york", "ON", "Bavaria"],
        "country": ["USA", "canada", "Narnia"],
        "mobilephone": ["717-555-9636", "+1 717 555 9636", "555"],
    }
    checked, issues = _check("customers", columns, phone_plus=True)
    assert checked.batch.column("gender").to_pylist() == ["M", "F", "N"]
    assert checked.batch.column("state").to_pylist() == ["NY", "ON", None]
    assert checked.batch.column("country").to_pylist() == ["US", "CA", None]
    assert checked.batch.column("mobilephone").to_pylist() == ["+17175559636"] * 2 + [None]
    assert _found(issues) == {
        (3, "state", "warning"),
        (3, "country", "warning"),
        (3, "mobilephone", "warning"),
    }
    api, _ = _check("customers", columns, "api")
    assert api.batch.column("gender").to_pylist() == ["M", "F", None]  # N is file-only


def test_long_strings_reject_or_truncate() -> None:
    columns = {"sku": ["A", "B"], "brand": ["x" * 50, "y" * 51]}
    rejected, issues = _check("products", columns)
    assert rejected.rows.to_pylist() == [1]
    assert issues.summary() == [("error", "brand", "longer than 50 characters", 1)]
    truncated, issues = _check("products", columns, long_strings="truncate")
    assert truncated.batch.column("brand").to_pylist() == ["x" * 50, "y" * 50]
    assert issues.count("warning") == 1


def test_api_limits_are_the_stricter_ones() -> None:
    columns = {"email": ["a@x.io"], "address1": ["z" * 150]}
    file, _ = _check("customers", columns)
    api, issues = _check("customers", columns, "api")
    assert file.batch.num_rows == 1
    assert api.batch.num_rows == 0
    assert issues.summary()[0][2] == "longer than 100 characters"


def test_order_keys_enums_and_crm() -> None:
    columns = {
        "ordernumber": ["1", None, None, "1", "4"],
        "alternateordernumber": [None, "A2", None, None, None],
        "email": [None, "b@x.io", "c@x.io", "d@x.io", "e@x.io"],
        "customernumber": ["C1", None, None, None, None],
        "merchandisediscounttype": ["quantitydiscount", "NotSet", None, None, "Bogus"],
    }
    checked, issues = _check("orders", columns)
    assert checked.rows.to_pylist() == [2, 4]
    assert _found(issues) == {
        (1, "email", "error"),  # not CRM-enabled: email required
        (3, "ordernumber", "error"),  # neither number
        (5, "merchandisediscounttype", "error"),
    }
    crm, issues = _check("orders", columns, crm_enabled=True)
    assert crm.rows.to_pylist() == [1, 2]  # row 4 repeats order 1
    assert crm.batch.column("merchandisediscounttype").to_pylist() == ["QuantityDiscount", None]
    assert (4, "ordernumber", "error") in _found(issues)


def test_duplicates_are_found_across_batches() -> None:
    issues = IssueLog("order_items")
    validator = BatchValidator(
        DATASETS["order_items"],
        ValidationRules(),
        "file",
        issues,
        now=datetime(2026, 11, 23, tzinfo=UTC),
        today=date(2026, 11, 23),
    )
    first = pa.RecordBatch.from_pydict({"ordernumber": ["1", "1"], "sku": ["A", "B"]})
    second = pa.RecordBatch.from_pydict({"ordernumber": ["2", "1"], "sku": ["A", "A"]})
    validator.check(first, 1)
    checked = validator.check(second, 3)
    assert checked.rows.to_pylist() == [3]
    assert [(i.row, i.key) for i in issues.sample] == [(4, "1/A")]
