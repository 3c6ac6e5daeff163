"""The per-contact value check (Python) and the list import's (SQL) accept the same values."""

from __future__ import annotations

import duckdb
import pytest

from listrak_sync.emulator.email.fields import value_fits, value_ok_sql

SAMPLES = (
    [
        ("Numeric", 10, value)
        for value in ("12", "-3.5", "1e3", " 7 ", "12a", "", "one", "1,5", "0x10")
    ]
    + [
        ("Date", 10, value)
        for value in (
            "1990-05-17",
            "05/17/1990",
            "1990-13-01",
            "17.05.1990",
            "1990/05/17",
            "2/30/2020",
        )
    ]
    + [("CheckBox", 3, value) for value in ("on", "OFF", "On", "yes", "true", "1")]
    + [
        ("Text", 3, "abc"),
        ("Text", 3, "abcd"),
        ("RadioButton", 5, "Gold"),
        ("Date", 5, "1990-05-17"),
    ]
)


@pytest.mark.parametrize(("data_type", "max_length", "value"), SAMPLES)
def test_python_and_sql_rules_agree(data_type: str, max_length: int, value: str) -> None:
    db = duckdb.connect()
    row = db.execute(
        f"SELECT coalesce({value_ok_sql('v.value', 'f')}, FALSE)"
        " FROM (SELECT ?::VARCHAR AS value) v, (SELECT ?::VARCHAR AS data_type,"
        " ?::INTEGER AS max_length) f",
        [value, data_type, max_length],
    ).fetchall()[0]
    assert row[0] == value_fits(data_type, max_length, value)
