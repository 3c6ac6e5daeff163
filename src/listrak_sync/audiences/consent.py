"""SMS consent: which E.164 numbers the opt status table says may receive texts.

Phones in the opt status table are normalised through the same phone cache as audience phones
(the table may hold "+1 980 555 9057" as well as "+19805559057"). When a number has several
rows, the latest by ``updated_column`` decides; without that column, a number counts as opted
in only if *every* row for it says so (consent is never inferred from a mixed history).
"""

from __future__ import annotations

from sqlglot import exp

from ..config.models import SmsOptStatus
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


def consented_phones(
    warehouse: Warehouse, status: SmsOptStatus, table: str, region: str
) -> exp.Select:
    """``SELECT e164`` of every opted-in number (one row each)."""
    opted_in = exp.In(
        this=exp.Lower(this=exp.column(status.status_column, table="o", quoted=True)),
        expressions=[exp.Literal.string(v.lower()) for v in status.opted_in_values],
    )
    e164 = exp.column("e164", table="pc")
    rows = (
        exp.select(exp.alias_(e164, "e164"))
        .from_(table_expression(table, "o"))
        .join(
            phone_cache_select(warehouse, region).subquery("pc"),
            on=exp.EQ(this=exp.column("raw", table="pc"), expression=_raw(status.phone_column)),
        )
        .where(exp.not_(exp.Is(this=e164.copy(), expression=exp.null())))
    )
    if status.updated_column is None:
        every = exp.Min(
            this=exp.Case().when(opted_in, exp.Literal.number(1)).else_(exp.Literal.number(0))
        )
        return rows.group_by(e164.copy()).having(
            exp.EQ(this=every, expression=exp.Literal.number(1))
        )
    # The latest dated row decides. A window rather than DuckDB's arg_max, so every engine
    # computes it the same way; rows without a date are ignored (as arg_max ignores them), and
    # rows tied on the latest date decide "not opted in" first: consent is never inferred.
    updated = exp.column(status.updated_column, table="o", quoted=True)
    said_yes = exp.Coalesce(this=exp.paren(opted_in), expressions=[exp.false()])
    rank = exp.Window(
        this=exp.RowNumber(),
        partition_by=[e164.copy()],
        order=exp.Order(
            expressions=[
                exp.Ordered(this=updated.copy(), desc=True, nulls_first=False),
                exp.Ordered(this=said_yes.copy(), desc=False, nulls_first=False),
            ]
        ),
    )
    ranked = rows.select(exp.alias_(said_yes, "opted_in"), exp.alias_(rank, "latest")).where(
        exp.not_(exp.Is(this=updated.copy(), expression=exp.null()))
    )
    return (
        exp.select(exp.column("e164", table="r"))
        .from_(ranked.subquery("r"))
        .where(exp.column("latest", table="r").eq(1))
        .where(exp.column("opted_in", table="r"))
    )
