"""Segment insights: size, reachability by email and by consented SMS, breakdown by attribute.

All counts are of customers (distinct customer keys), computed in the engine:

- reachable by email: the profile's email is present and well-formed (``keys.EMAIL_PATTERN``)
  and the email opt status table does not list it as unsubscribed;
- reachable by SMS: the profile's phone normalises to E.164 for the default region and the SMS
  opt status table lists that number as opted in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from .consent import consented_phones, prepare_consent_phones
from .errors import AudienceError, Issue
from .keys import email_key, email_status, phone_cache_select, prepare_phones
from .schema import table_expression
from .segments import SegmentResolver

__all__ = ["BREAKDOWN_LIMIT", "SegmentInsights", "segment_insights"]

BREAKDOWN_LIMIT = 20


@dataclass
class SegmentInsights:
    segment: str
    size: int
    reachable_email: int | None = None
    reachable_sms: int | None = None
    breakdown_by: str | None = None
    breakdown: list[tuple[object, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def segment_insights(
    resolver: SegmentResolver,
    name: str,
    *,
    by: str | None = None,
    reach: bool = True,
) -> SegmentInsights:
    """Compute the insights of segment ``name``; ``reach`` False skips the (slower) reachability
    counts, which need the phone normalisation."""
    config = resolver.config.warehouse
    dialect = resolver.dialect
    warehouse = resolver.warehouse
    schema = resolver.schema
    members = resolver.select(name)
    member_key = members.selects[0].alias_or_name
    insights = SegmentInsights(segment=name, size=resolver.size(name))
    profile = schema.table(config.profile_table)
    key = config.customer_key

    def joined(*columns: exp.Expr) -> exp.Select:
        return (
            exp.select(*columns)
            .from_(resolver.select(name).subquery("m"))
            .join(
                table_expression(config.profile_table, "a"),
                on=exp.EQ(
                    this=exp.column(key, table="a", quoted=True),
                    expression=exp.column(member_key, table="m", quoted=True),
                ),
            )
        )

    def count(query: exp.Select) -> int:
        result = warehouse.query(query.sql(dialect=dialect))
        return int(result.column(0)[0].as_py() or 0)

    distinct_members = exp.Count(
        this=exp.Distinct(expressions=[exp.column(member_key, table="m", quoted=True)])
    )
    if reach and profile is None:
        insights.notes.append(f"profile table {config.profile_table} is missing: no reachability")
    elif reach and profile is not None:
        if schema.column(profile, config.email_column) is not None:
            email = email_key(exp.column(config.email_column, table="a", quoted=True))
            query = joined(distinct_members.copy()).where(
                exp.EQ(this=email_status(email.copy()), expression=exp.Literal.string("ok"))
            )
            opt = config.email_opt_status
            if schema.table(opt.table) is not None:
                unsubscribed = exp.Exists(
                    this=exp.select(exp.Literal.number(1))
                    .from_(table_expression(opt.table, "o"))
                    .where(
                        exp.and_(
                            exp.EQ(
                                this=email_key(
                                    exp.column(opt.email_column, table="o", quoted=True)
                                ),
                                expression=email.copy(),
                            ),
                            exp.In(
                                this=exp.Lower(
                                    this=exp.column(opt.status_column, table="o", quoted=True)
                                ),
                                expressions=[
                                    exp.Literal.string(v.lower()) for v in opt.unsubscribed_values
                                ],
                            ),
                        )
                    )
                )
                query = query.where(exp.not_(unsubscribed))
            else:
                insights.notes.append(f"no {opt.table} table: unsubscribes not taken into account")
            insights.reachable_email = count(query)
        else:
            insights.notes.append(f"{profile} has no {config.email_column} column")
        if schema.column(profile, config.phone_column) is not None:
            raw = exp.Trim(
                this=exp.cast(
                    exp.column(config.phone_column, table="a", quoted=True),
                    exp.DataType.build("VARCHAR"),
                )
            )
            prepare_phones(warehouse, joined(exp.alias_(raw.copy(), "raw")), config.default_region)
            opt_sms = config.sms_opt_status
            query = joined(distinct_members.copy()).join(
                phone_cache_select(warehouse, config.default_region).subquery("p"),
                on=exp.EQ(this=exp.column("raw", table="p"), expression=raw.copy()),
            )
            if schema.table(opt_sms.table) is not None:
                prepare_consent_phones(warehouse, opt_sms, opt_sms.table, config.default_region)
                consented = consented_phones(
                    warehouse, opt_sms, opt_sms.table, config.default_region
                )
                query = query.join(
                    consented.subquery("ok"),
                    on=exp.EQ(
                        this=exp.column("e164", table="ok"),
                        expression=exp.column("e164", table="p"),
                    ),
                )
                insights.reachable_sms = count(query)
            else:
                insights.notes.append(f"no {opt_sms.table} table: nobody has SMS consent")
                insights.reachable_sms = 0
        else:
            insights.notes.append(f"{profile} has no {config.phone_column} column")
    if by is not None:
        insights.breakdown_by, insights.breakdown = _breakdown(resolver, name, by)
    return insights


def _breakdown(
    resolver: SegmentResolver, name: str, by: str
) -> tuple[str, list[tuple[object, int]]]:
    """Members per value of ``by`` (a customer-table column, else a profile-table column),
    largest first; values past the first 20 are summed as ``(other)``."""
    config = resolver.config.warehouse
    schema = resolver.schema
    members = resolver.select(name)
    member_key = members.selects[0].alias_or_name
    for table in (config.customer_table, config.profile_table):
        column = schema.column(table, by)
        if column is not None:
            break
    else:
        hint = schema.column_hint(config.customer_table, by) or schema.column_hint(
            config.profile_table, by
        )
        raise AudienceError(
            [Issue(f"no column {by!r} in {config.customer_table} or {config.profile_table}", hint)]
        )
    value = exp.column(column.name, table="a", quoted=True)
    query = (
        exp.select(
            exp.alias_(value, "value"),
            exp.alias_(
                exp.Count(
                    this=exp.Distinct(expressions=[exp.column(member_key, table="m", quoted=True)])
                ),
                "n",
            ),
        )
        .from_(members.subquery("m"))
        .join(
            table_expression(table, "a"),
            on=exp.EQ(
                this=exp.column(config.customer_key, table="a", quoted=True),
                expression=exp.column(member_key, table="m", quoted=True),
            ),
            join_type="left",
        )
        .group_by(exp.column("value"))
        .order_by(exp.Ordered(this=exp.column("n"), desc=True), exp.column("value"))
    )
    rows = resolver.warehouse.query(query.sql(dialect=resolver.dialect)).to_pylist()
    pairs: list[tuple[object, int]] = [(r["value"], int(r["n"])) for r in rows[:BREAKDOWN_LIMIT]]
    rest = sum(int(r["n"]) for r in rows[BREAKDOWN_LIMIT:])
    if rest:
        pairs.append(("(other)", rest))
    return column.name, pairs
