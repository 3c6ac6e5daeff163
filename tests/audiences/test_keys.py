"""Email and phone keys."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from sqlglot import exp

from listrak_sync.audiences.keys import email_key, email_status, normalise_phone
from listrak_sync.warehouse import connect

EMAILS = [
    "jane@example.com",
    " Jane.Doe+news@Example.co.uk ",
    "a_b-c@sub.domain.org",
    "o'brien@example.ie",
    "plain",
    "two@@example.com",
    "no-tld@example",
    "dot.@example.com",
    ".dot@example.com",
    "a..b@example.com",
    "space in@example.com",
    "under@score_domain.com",
    "-dash@example.com",
    "x@-bad.com",
    "x@bad-.com",
    "x@example.c",
    "x@123.com",
    "x@example.a1",
    "x@example.1a",
    "x@example.123",
    "x@example.x-y",
    "x@localhost",
    "x@example.com.",
]


def _sql_status(value: str | None) -> str:
    with connect(":memory:") as warehouse:
        key = email_key(exp.Literal.string(value) if value is not None else exp.null())
        query = exp.select(exp.alias_(email_status(key), "s"))
        return str(warehouse.query(query.sql(dialect="duckdb")).column(0)[0].as_py())


@pytest.mark.parametrize("email", EMAILS)
def test_email_check_agrees_with_email_validator(email: str) -> None:
    try:
        validate_email(email.strip().lower(), check_deliverability=False)
        expected = "ok"
    except EmailNotValidError:
        expected = "invalid_key"
    assert _sql_status(email) == expected


@pytest.mark.parametrize("value", [None, "", "   "])
def test_empty_email_is_missing(value: str | None) -> None:
    assert _sql_status(value) == "missing_key"


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("(617) 555-0101", "US", "+16175550101"),
        ("617.555.0101", "US", "+16175550101"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("030 123456", "DE", "+4930123456"),
    ],
)
def test_phones_normalise_to_e164(raw: str, region: str, expected: str) -> None:
    assert normalise_phone(raw, region) == (expected, None)


@pytest.mark.parametrize("raw", ["12", "not a phone", "020 7946 0958", "+1 555 555"])
def test_bad_phones_have_a_reason(raw: str) -> None:
    number, reason = normalise_phone(raw, "US")
    assert number is None
    assert reason


@pytest.mark.parametrize("raw", ["+1 202-555-CALL", "1-800-FLOWERS", "617 555 O1O1"])
def test_phones_with_letters_are_invalid(raw: str) -> None:
    # libphonenumber reads letters as a keypad: 1-800-FLOWERS would become +18003569377.
    number, reason = normalise_phone(raw, "US")
    assert number is None
    assert reason is not None
    assert "letters" in reason


@pytest.mark.parametrize(
    "raw", ["(617) 555-0101 ext. 12", "+1 617 555 0101 x12", "tel:+1-617-555-0101"]
)
def test_extensions_and_tel_prefix_are_not_letters(raw: str) -> None:
    assert normalise_phone(raw, "US") == ("+16175550101", None)
