"""Audience primary keys: email addresses and E.164 phone numbers.

Emails are normalised (trimmed, lower-cased) and checked in SQL against a pattern for plain
ASCII addresses (dot-atom local part, dotted domain whose last label ends in a letter; at most
254 characters). It agrees with email-validator (without deliverability checks) on ASCII
addresses and lets the engine judge millions of rows without Python; internationalised
addresses (non-ASCII) are reported invalid.

Phones need libphonenumber's rules, which only exist in Python. We normalise each *distinct*
raw value once, in Arrow batches, and remember the answer in a table of the warehouse's
scratch place (``Warehouse.scratch_table(PHONE_CACHE)``: raw value, default region, rules
version → E.164 or a reason), which the audience query then joins. Later
audiences of the same connection normalise only new values. The cache is never written into
the warehouse's own database: reading an audience must not need write access, so syncs and
previews share the warehouse (a DuckDB file allows one writing process).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

import pyarrow as pa
from sqlglot import exp

from ..warehouse import Warehouse

__all__ = [
    "EMAIL_PATTERN",
    "PHONE_CACHE",
    "email_key",
    "email_status",
    "normalise_phone",
    "phone_cache_select",
    "prepare_phones",
]

EMAIL_PATTERN = (
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z0-9][a-z0-9-]{0,61})?[a-z]$"
)
PHONE_CACHE = "listrak_sync_phone_e164"


@cache
def _phones_version() -> str:
    """What cached answers are keyed by: a new phonenumbers release or a change of our own rules
    (``+rules2``: letters refused) re-normalises every value once."""
    # phonenumbers (its metadata: tens of milliseconds to import) is imported by audiences that
    # have phones, not by every command that reads a campaign.
    import phonenumbers

    return str(getattr(phonenumbers, "__version__", "unknown")) + "+rules2"


# An extension at the end (``ext. 12``, ``x12``, ``#12``) may hold letters; the number may not.
_EXTENSION = re.compile(r"(?i)\s*(?:;\s*ext=|e?xt(?:ension|n)?\.?|x|#)\s*\d+\s*$")
_LETTER = re.compile(r"[^\W\d_]")
_CACHE_SCHEMA = pa.schema(
    [
        ("raw", pa.string()),
        ("region", pa.string()),
        ("version", pa.string()),
        ("e164", pa.string()),
        ("reason", pa.string()),
    ]
)


def email_key(raw: exp.Expr) -> exp.Expr:
    """``LOWER(TRIM(raw))``."""
    return exp.Lower(this=exp.Trim(this=exp.cast(raw, exp.DataType.build("VARCHAR"))))


def email_status(key: exp.Expr) -> exp.Expr:
    """``'missing'``, ``'invalid'`` or ``'ok'`` for a normalised email."""
    return (
        exp.Case()
        .when(
            exp.or_(
                exp.Is(this=key, expression=exp.null()),
                exp.EQ(this=key, expression=exp.Literal.string("")),
            ),
            exp.Literal.string("missing_key"),
        )
        .when(
            exp.or_(
                exp.GT(this=exp.Length(this=key), expression=exp.Literal.number(254)),
                exp.not_(exp.RegexpLike(this=key, expression=exp.Literal.string(EMAIL_PATTERN))),
            ),
            exp.Literal.string("invalid_key"),
        )
        .else_(exp.Literal.string("ok"))
    )


def normalise_phone(raw: str, region: str) -> tuple[str | None, str | None]:
    """``(E.164, None)`` or ``(None, reason)`` for one raw phone value.

    Letters are refused: libphonenumber reads them as a keypad (``1-800-FLOWERS`` becomes
    ``+18003569377``), and a warehouse value with letters is far more often a typo or a note
    than a vanity number someone meant to text."""
    number_part = _EXTENSION.sub("", raw.strip())
    if number_part.lower().startswith("tel:"):
        number_part = number_part[4:]
    if _LETTER.search(number_part):
        return None, (
            "has letters; write the number in digits (vanity numbers like 1-800-FLOWERS "
            "are refused)"
        )
    import phonenumbers  # see _phones_version

    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        # str(exc) is "(code) explanation"; keep the explanation.
        return None, "not a phone number: " + str(exc).split(") ", 1)[-1].rstrip(".")
    if not phonenumbers.is_valid_number(number):
        return None, "not a valid number for its country"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


def phone_cache_select(warehouse: Warehouse, region: str) -> exp.Select:
    """The cache rows for ``region`` under this phonenumbers version, one per raw value."""
    cache = exp.to_table(warehouse.scratch_table(PHONE_CACHE))
    return (
        exp.select(
            exp.column("raw"),
            exp.alias_(exp.Min(this=exp.column("e164")), "e164"),
            exp.alias_(exp.Min(this=exp.column("reason")), "reason"),
        )
        .from_(cache)
        .where(
            exp.and_(
                exp.EQ(this=exp.column("region"), expression=exp.Literal.string(region)),
                exp.EQ(
                    this=exp.column("version"),
                    expression=exp.Literal.string(_phones_version()),
                ),
            )
        )
        .group_by(exp.column("raw"))
    )


def _normalised(batches: Iterator[pa.RecordBatch], region: str) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        raws = batch.column(0).to_pylist()
        e164: list[str | None] = []
        reasons: list[str | None] = []
        for raw in raws:
            number, reason = normalise_phone(raw, region)
            e164.append(number)
            reasons.append(reason)
        size = len(raws)
        yield pa.RecordBatch.from_arrays(
            [
                pa.array(raws, pa.string()),
                pa.array([region] * size, pa.string()),
                pa.array([_phones_version()] * size, pa.string()),
                pa.array(e164, pa.string()),
                pa.array(reasons, pa.string()),
            ],
            schema=_CACHE_SCHEMA,
        )


def prepare_phones(warehouse: Warehouse, raw_values: exp.Query, region: str) -> int:
    """Normalise the distinct raw phones of ``raw_values`` (a one-column query) that the cache
    does not know yet; returns how many were added."""
    columns = ", ".join(f"{name} VARCHAR" for name in _CACHE_SCHEMA.names)
    table = warehouse.scratch_table(PHONE_CACHE)
    warehouse.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
    known = phone_cache_select(warehouse, region).subquery("k")
    fresh = (
        exp.select(exp.column("raw", table="v"))
        .distinct()
        .from_(exp.Subquery(this=raw_values, alias=exp.TableAlias(this=exp.to_identifier("v"))))
        .where(
            exp.and_(
                exp.not_(exp.Is(this=exp.column("raw", table="v"), expression=exp.null())),
                exp.not_(
                    exp.Exists(
                        this=exp.select(exp.Literal.number(1))
                        .from_(known)
                        .where(
                            exp.EQ(
                                this=exp.column("raw", table="k"),
                                expression=exp.column("raw", table="v"),
                            )
                        )
                    )
                ),
            )
        )
    )
    stream = warehouse.stream(fresh.sql(dialect=warehouse.dialect), batch_size=50_000)
    return warehouse.write(table, _normalised(stream, region), mode="append", schema=_CACHE_SCHEMA)
