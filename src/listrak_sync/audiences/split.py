"""The deterministic treatment-group split, computed in the engine.

A customer's bucket is ``int(first 8 hex digits of md5(salt || ':' || customer_key)) mod 10000``.
MD5 is the same in every engine and every version (unlike DuckDB's ``hash()``), so a person stays
in the same bucket run after run and engine after engine. Groups take consecutive bucket ranges
in the order they are listed, then the control group: 30% / 70% gives buckets 0–2999 and
3000–9999. Changing a group's share moves only the people at the boundaries; changing the salt
reshuffles everyone.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

__all__ = ["BUCKETS", "bucket_bounds", "bucket_expression", "group_expression"]

BUCKETS = 10_000


def _hex_prefix_to_int(hex_text: exp.Expr, dialect: str) -> exp.Expr:
    """The integer value of an 8-digit hex string, in the engine's own words."""
    if dialect in ("spark", "spark2", "databricks", "hive"):
        return exp.cast(
            exp.func("CONV", hex_text, exp.Literal.number(16), exp.Literal.number(10)),
            exp.DataType.build("BIGINT"),
        )
    if dialect in ("postgres", "redshift"):
        # 'x' || hex, read as a 32-bit string, then as a non-negative bigint.
        bits = exp.cast(
            exp.DPipe(this=exp.Literal.string("x"), expression=hex_text),
            exp.DataType.build("BIT(32)", dialect="postgres"),
        )
        return exp.cast(bits, exp.DataType.build("BIGINT"))
    if dialect == "snowflake":
        # Digit by digit: each hex digit's place in '0123456789abcdef', times its power of 16.
        # TO_NUMBER(hex, 'XXXXXXXX') would do on Snowflake, but the emulator the tests use
        # (fakesnow) cannot run it; this runs alike on both (MD5 gives lower-case hex).
        digits: exp.Expr | None = None
        for place in range(8):
            digit = exp.Sub(
                this=exp.StrPosition(
                    this=exp.Literal.string("0123456789abcdef"),
                    substr=exp.Substring(
                        this=hex_text.copy(),
                        start=exp.Literal.number(place + 1),
                        length=exp.Literal.number(1),
                    ),
                ),
                expression=exp.Literal.number(1),
            )
            term = exp.Mul(this=exp.paren(digit), expression=exp.Literal.number(16 ** (7 - place)))
            digits = term if digits is None else exp.Add(this=digits, expression=term)
        assert digits is not None
        return digits
    if dialect == "duckdb":
        return exp.cast(
            exp.DPipe(this=exp.Literal.string("0x"), expression=hex_text),
            exp.DataType.build("BIGINT"),
        )
    raise ValueError(f"the stable split is not implemented for the {dialect!r} dialect")


def bucket_expression(key: exp.Expr, salt: str, dialect: str) -> exp.Expr:
    """``0 <= bucket < 10000`` for the customer key ``key`` under ``salt``."""
    text = exp.DPipe(
        this=exp.Literal.string(f"{salt}:"),
        expression=exp.cast(key, exp.DataType.build("VARCHAR")),
    )
    prefix = exp.Substring(
        this=exp.MD5(this=text), start=exp.Literal.number(1), length=exp.Literal.number(8)
    )
    return exp.Mod(
        this=exp.paren(_hex_prefix_to_int(prefix, dialect)),
        expression=exp.Literal.number(BUCKETS),
    )


def bucket_bounds(shares: Sequence[tuple[str, float]]) -> list[tuple[str, int, int]]:
    """``(name, first bucket, end bucket)`` for each share in percent, in order."""
    bounds: list[tuple[str, int, int]] = []
    start = 0
    for name, percent in shares:
        end = start + round(percent * BUCKETS / 100)
        bounds.append((name, start, end))
        start = end
    if start != BUCKETS:
        raise ValueError(f"shares cover {start} of {BUCKETS} buckets; they must add up to 100%")
    return bounds


def group_expression(bucket: exp.Expr, shares: Sequence[tuple[str, float]]) -> exp.Expr:
    """``CASE WHEN bucket < end1 THEN 'A' WHEN bucket < end2 THEN 'B' ... END``."""
    bounds = bucket_bounds(shares)
    if len(bounds) == 1:
        return exp.Literal.string(bounds[0][0])
    case = exp.Case()
    for name, _, end in bounds[:-1]:
        case = case.when(
            exp.LT(this=bucket, expression=exp.Literal.number(end)), exp.Literal.string(name)
        )
    return case.else_(exp.Literal.string(bounds[-1][0]))
