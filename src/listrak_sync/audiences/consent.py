"""SMS consent: which E.164 numbers the opt status table says may receive texts.

Phones in the opt status table are normalised through the same phone cache as audience phones
(the table may hold "+1 980 555 9057" as well as "+19805559057"). When a number has several
rows, the latest by ``updated_column`` decides; without that column, a number counts as opted
in only if *every* row for it says so (consent is never inferred from a mixed history).
"""

from __future__ import annotations

from sqlglot import exp

from ..project.models import SmsOptStatus
from ..warehouse import Warehouse
from .keys import phone_cache_select, prepare_phones
from .schema import table_expression

__all__ = ["consented_phones", "prepare_consent_phones"]


def _raw(column: str) -> exp.Expr:
    return exp.Trim(
        this=exp.cast(exp.column(column, table="o", quoted=True), exp.DataType.build("VARCHAR"))
    )


def prepare_consent_phones(
    warehouse: Warehouse, status: SmsOptStatus, table: str, region: str
) -> None:
    """Put the opt status table's phones into the phone cache."""
    raw = exp.select(exp.alias_(_raw(status.phone_column), "raw")).from_(
        table_expression(table, "o")
    )
    prepare_phones(warehouse, raw, region)


def consented_phones(status: SmsOptStatus, table: str, region: str) -> exp.Select:
    """``SELECT e164`` of every opted-in number (one row each)."""
    opted_in = exp.In(
        this=exp.Lower(this=exp.column(status.status_column, table="o", quoted=True)),
        expressions=[exp.Literal.string(v.lower()) for v in status.opted_in_values],
    )
    e164 = exp.column("e164", table="pc")
    if status.updated_column is not None:
        latest = exp.ArgMax(
            this=exp.paren(opted_in),
            expression=exp.column(status.updated_column, table="o", quoted=True),
        )
        decided: exp.Expr = exp.EQ(this=latest, expression=exp.true())
    else:
        every = exp.Min(
            this=exp.Case().when(opted_in, exp.Literal.number(1)).else_(exp.Literal.number(0))
        )
        decided = exp.EQ(this=every, expression=exp.Literal.number(1))
    return (
        exp.select(exp.alias_(e164, "e164"))
        .from_(table_expression(table, "o"))
        .join(
            phone_cache_select(region).subquery("pc"),
            on=exp.EQ(this=exp.column("raw", table="pc"), expression=_raw(status.phone_column)),
        )
        .where(exp.not_(exp.Is(this=e164.copy(), expression=exp.null())))
        .group_by(e164.copy())
        .having(decided)
    )
