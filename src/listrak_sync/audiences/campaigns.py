"""Campaign audiences: who each destination receives, computed in the engine.

For a campaign the engine computes, in one query per destination:

1. members: the segment's customers minus every exclusion segment's;
2. the treatment group of each member (``split.py``: md5 buckets, control group last);
3. for the groups sending to the destination, the key (email: trimmed, lower-cased, pattern
   checked; phone: E.164 through the phone cache) and the attributes, read from the attribute
   table (default: the profile table) joined on the customer key;
4. a status per row: ``ok``, ``missing_key``, ``invalid_key``, ``no_consent`` (SMS without an
   opt-in) or ``duplicate``; and, while streaming, ``forgotten`` for a usable key that belongs
   to a person forgotten by ``listrak-sync forget`` (see ``privacy/suppression.py``).

Dedupe rule: among rows with a usable key, one row per key per destination (across its groups,
so a person gets one message per campaign) — the first by the campaign's ``dedupe.prefer``
columns (nulls last), then by the lowest customer key. The winner's group is the row's group.

Rows are streamed as Arrow batches; usable rows go to the destination, the others are counted
(per group and status) and the first few kept as a sample for the run record — never dropped
silently.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from ..config.destinations import AttributeMapping, EmailDestination, SmsDestination
from ..config.models import CONTROL_GROUP, Campaign, CampaignDestination, ProjectConfig
from ..warehouse import Warehouse
from .consent import consented_phones, prepare_consent_phones
from .errors import AudienceError, Issue
from .keys import email_key, email_status, phone_cache_select, prepare_phones
from .schema import close_match, table_expression
from .segments import SegmentResolver
from .split import bucket_expression, group_expression

if TYPE_CHECKING:
    from ..privacy import ForgottenSet

__all__ = [
    "STATUSES",
    "AttributePlan",
    "AudienceReport",
    "AudienceUnit",
    "CampaignAudience",
    "DestinationAudience",
]

STATUSES = ("ok", "missing_key", "invalid_key", "no_consent", "duplicate", "forgotten")
GROUP_COLUMN = "treatment_group"


@dataclass(frozen=True)
class AttributePlan:
    """A column of the attribute table and the name it is delivered under."""

    column: str
    name: str


@dataclass
class AudienceReport:
    """What happened to every audience row: counts per (group, status), and a sample of the rows
    that could not be delivered (customer key, group, raw key, status, reason)."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    rejected_sample: list[dict[str, Any]] = field(default_factory=list)
    sample_size: int = 20

    def total(self, status: str | None = None, group: str | None = None) -> int:
        return sum(
            n
            for (g, s), n in self.counts.items()
            if (status is None or s == status) and (group is None or g == group)
        )

    def as_dict(self) -> dict[str, Any]:
        by_status = {s: self.total(s) for s in STATUSES}
        return {
            "counts": by_status,
            "by_group": {
                g: {s: n for (gg, s), n in sorted(self.counts.items()) if gg == g}
                for g in sorted({g for g, _ in self.counts})
            },
            "rejected_sample": self.rejected_sample,
        }


@dataclass(frozen=True)
class _Keys:
    """How a destination's key is read: the key, its first status and why it is invalid; for
    SMS the phone cache joined on the raw value and the consented numbers."""

    key: exp.Expr
    status: exp.Expr
    reason_invalid: exp.Expr
    phones: exp.Expr | None = None
    phones_on: exp.Expr | None = None
    consented: exp.Select | None = None


class DestinationAudience:
    """Every row a campaign produces for one destination, with its status."""

    def __init__(
        self,
        campaign: CampaignAudience,
        name: str,
        destination: EmailDestination | SmsDestination,
        groups: list[str],
    ) -> None:
        self.campaign = campaign
        self.name = name
        self.destination = destination
        self.groups = groups
        self.key_name: str = destination.primary_key
        config = campaign.config
        edits = campaign.definition.destinations.get(name, CampaignDestination())
        self.attribute_table = (
            edits.attribute_table
            or campaign.definition.attribute_table
            or destination.attribute_table
            or config.warehouse.profile_table
        )
        self.key_column = destination.key_column or (
            config.warehouse.email_column
            if self.key_name == "email"
            else config.warehouse.phone_column
        )
        self.attributes = _attributes(destination.attributes, edits)
        self._query: exp.Select | None = None

    # --- checks ----------------------------------------------------------------------------

    def issues(self) -> list[Issue]:
        """Missing tables/columns and name clashes, before any query runs."""
        schema = self.campaign.segments.schema
        issues: list[Issue] = []
        table = schema.table(self.attribute_table)
        if table is None:
            return [
                Issue(
                    f"attribute table {self.attribute_table!r} is not in the warehouse",
                    schema.table_hint(self.attribute_table),
                    ("attribute_table",),
                )
            ]
        wanted = [(self.key_column, "key_column")] + [
            (a.column, "attributes") for a in self.attributes
        ]
        wanted += [(p.column, "dedupe") for p in self.campaign.definition.dedupe.prefer]
        wanted.append((self.campaign.config.warehouse.customer_key, "customer_key"))
        for column, role in wanted:
            if schema.column(table, column) is None:
                issues.append(
                    Issue(
                        f"unknown attribute {column!r}: not a column of {table}",
                        schema.column_hint(table, column),
                        (role, column),
                    )
                )
        names = [a.name.lower() for a in self.attributes]
        reserved = {
            self.campaign.config.warehouse.customer_key.lower(),
            GROUP_COLUMN,
            self.key_name,
        }
        for attribute in self.attributes:
            lowered = attribute.name.lower()
            if lowered in reserved or names.count(lowered) > 1:
                issues.append(
                    Issue(
                        f"attribute name {attribute.name!r} is used twice in what {self.name!r} "
                        "receives",
                        "give it another `field:` name",
                        ("attributes", attribute.column),
                    )
                )
        if isinstance(self.destination, SmsDestination) and self.destination.require_consent:
            status = self.campaign.config.warehouse.sms_opt_status
            consent = self.destination.consent_table or status.table
            if schema.table(consent) is None:
                issues.append(
                    Issue(
                        f"SMS consent table {consent!r} is not in the warehouse",
                        "create it (e.g. `listrak-sync pull`) or set require_consent: false",
                        ("consent_table",),
                    )
                )
            else:
                needed = [status.phone_column, status.status_column, status.updated_column]
                for column in [c for c in needed if c is not None]:
                    if schema.column(consent, column) is None:
                        issues.append(
                            Issue(
                                f"SMS consent table {consent} has no column {column!r}",
                                schema.column_hint(consent, column),
                                ("consent_table",),
                            )
                        )
        return issues

    # --- SQL -------------------------------------------------------------------------------

    def query(self) -> exp.Select:
        """One row per (member of the destination's groups, attribute row), with status.

        Built once, in two steps: for SMS, :meth:`cache_phones` first writes the phones the
        phone cache does not know yet into it (a write to the scratch catalog); then the query
        is built, reading that cache."""
        if self._query is None:
            issues = self.issues()
            if issues:
                raise AudienceError(issues)
            self.cache_phones()
            self._query = self._build()
        return self._query.copy()

    def cache_phones(self) -> None:
        """SMS: normalise into the phone cache every raw phone of the destination's members
        (and of the consent table, when consent is required) that it does not know yet.
        Nothing for email. Idempotent: a second call finds nothing new."""
        if not isinstance(self.destination, SmsDestination):
            return
        config = self.campaign.config
        region = self._region()
        members = self.campaign.members_query()
        prepare_phones(
            self.campaign.warehouse,
            exp.select(exp.alias_(self._raw_phone(), "raw"))
            .from_(members.subquery("m"))
            .join(table_expression(self.attribute_table, "a"), on=self._on_customer())
            .where(self._in_groups()),
            region,
        )
        if self.destination.require_consent:
            status_config = config.warehouse.sms_opt_status
            consent_table = self.destination.consent_table or status_config.table
            prepare_consent_phones(self.campaign.warehouse, status_config, consent_table, region)

    def _build(self) -> exp.Select:
        """The query over the phone cache :meth:`cache_phones` filled: keys, then ranks and
        statuses."""
        keys = self._phone_keys() if isinstance(self.destination, SmsDestination) else None
        return self._with_status(self._keyed_rows(keys or self._email_keys()))

    # The parts of the query.

    def _region(self) -> str:
        assert isinstance(self.destination, SmsDestination)
        return self.destination.default_region or self.campaign.config.warehouse.default_region

    def _raw_phone(self) -> exp.Expr:
        raw = exp.column(self.key_column, table="a", quoted=True)
        return exp.Trim(this=exp.cast(raw, exp.DataType.build("VARCHAR")))

    def _on_customer(self) -> exp.Expr:
        key = self.campaign.config.warehouse.customer_key
        return exp.EQ(
            this=exp.column(key, table="a", quoted=True),
            expression=exp.column(key, table="m", quoted=True),
        )

    def _in_groups(self) -> exp.Expr:
        return exp.In(
            this=exp.column(GROUP_COLUMN, table="m"),
            expressions=[exp.Literal.string(g) for g in self.groups],
        )

    def _email_keys(self) -> _Keys:
        key = email_key(exp.column(self.key_column, table="a", quoted=True))
        return _Keys(key, email_status(key.copy()), exp.Literal.string("not a valid email address"))

    def _phone_keys(self) -> _Keys:
        """Keys from the phone cache (its E.164 and why a raw value has none), and the
        consented numbers when consent is required."""
        assert isinstance(self.destination, SmsDestination)
        region = self._region()
        raw_text = self._raw_phone()
        key: exp.Expr = exp.column("e164", table="p")
        status = (
            exp.Case()
            .when(
                exp.or_(
                    exp.Is(this=raw_text.copy(), expression=exp.null()),
                    exp.EQ(this=raw_text.copy(), expression=exp.Literal.string("")),
                ),
                exp.Literal.string("missing_key"),
            )
            .when(exp.Is(this=key.copy(), expression=exp.null()), exp.Literal.string("invalid_key"))
            .else_(exp.Literal.string("ok"))
        )
        consented: exp.Select | None = None
        if self.destination.require_consent:
            status_config = self.campaign.config.warehouse.sms_opt_status
            consent_table = self.destination.consent_table or status_config.table
            consented = consented_phones(
                self.campaign.warehouse, status_config, consent_table, region
            )
        return _Keys(
            key,
            status,
            exp.column("reason", table="p"),
            phones=phone_cache_select(self.campaign.warehouse, region).subquery("p"),
            phones_on=exp.EQ(this=exp.column("raw", table="p"), expression=raw_text.copy()),
            consented=consented,
        )

    def _keyed_rows(self, keys: _Keys) -> exp.Select:
        """Members of the groups with their attribute row, key, first status (``_pre``),
        consent and dedupe columns."""
        key = self.campaign.config.warehouse.customer_key
        raw = exp.column(self.key_column, table="a", quoted=True)
        consent_ok: exp.Expr = exp.true()
        if keys.consented is not None:
            consent_ok = exp.not_(
                exp.Is(this=exp.column("e164", table="ok"), expression=exp.null())
            )
        base = (
            exp.select(
                exp.column(key, table="m", quoted=True),
                exp.column(GROUP_COLUMN, table="m"),
                exp.alias_(exp.cast(raw, exp.DataType.build("VARCHAR")), "_key_raw"),
                exp.alias_(keys.key, "_key"),
                exp.alias_(keys.status, "_pre"),
                exp.alias_(keys.reason_invalid, "_why"),
                exp.alias_(consent_ok, "_consent"),
                *[
                    exp.alias_(exp.column(a.column, table="a", quoted=True), a.name, quoted=True)
                    for a in self.attributes
                ],
                *[
                    exp.alias_(exp.column(p.column, table="a", quoted=True), f"_prefer{i}")
                    for i, p in enumerate(self.campaign.definition.dedupe.prefer)
                ],
            )
            .from_(self.campaign.members_query().subquery("m"))
            .join(
                table_expression(self.attribute_table, "a"),
                on=self._on_customer(),
                join_type="left",
            )
            .where(self._in_groups())
        )
        if keys.phones is not None:
            base = base.join(keys.phones, on=keys.phones_on, join_type="left")
        if keys.consented is not None:
            base = base.join(
                keys.consented.subquery("ok"),
                on=exp.EQ(
                    this=exp.column("e164", table="ok"), expression=exp.column("e164", table="p")
                ),
                join_type="left",
            )
        return base

    def _with_status(self, base: exp.Select) -> exp.Select:
        """Rank the rows sharing a usable key (dedupe) and give each its final status and
        reason."""
        key = self.campaign.config.warehouse.customer_key
        eligible = exp.and_(
            exp.EQ(this=exp.column("_pre"), expression=exp.Literal.string("ok")),
            exp.column("_consent"),
        )
        order = [
            exp.Ordered(this=exp.column(f"_prefer{i}"), desc=p.order == "desc", nulls_first=False)
            for i, p in enumerate(self.campaign.definition.dedupe.prefer)
        ] + [exp.Ordered(this=exp.column(key, quoted=True), nulls_first=False)]
        rank = exp.Window(
            this=exp.RowNumber(),
            partition_by=[exp.paren(eligible.copy()), exp.column("_key")],
            order=exp.Order(expressions=order),
        )
        ranked = exp.select(exp.Star(), exp.alias_(rank, "_rank")).from_(base.subquery("b"))
        final_status = (
            exp.Case()
            .when(
                exp.NEQ(this=exp.column("_pre"), expression=exp.Literal.string("ok")),
                exp.column("_pre"),
            )
            .when(exp.not_(exp.column("_consent")), exp.Literal.string("no_consent"))
            .when(
                exp.GT(this=exp.column("_rank"), expression=exp.Literal.number(1)),
                exp.Literal.string("duplicate"),
            )
            .else_(exp.Literal.string("ok"))
        )
        final_reason = (
            exp.Case()
            .when(
                exp.EQ(this=exp.column("_pre"), expression=exp.Literal.string("missing_key")),
                exp.Literal.string(
                    f"no {self.key_name} ({self.key_column} is empty or the "
                    f"customer has no row in {self.attribute_table})"
                ),
            )
            .when(
                exp.EQ(this=exp.column("_pre"), expression=exp.Literal.string("invalid_key")),
                exp.column("_why"),
            )
            .when(
                exp.not_(exp.column("_consent")),
                exp.Literal.string("no SMS opt-in in the consent table"),
            )
            .when(
                exp.GT(this=exp.column("_rank"), expression=exp.Literal.number(1)),
                exp.Literal.string(f"another customer has the same {self.key_name}"),
            )
        )
        return exp.select(
            exp.column(key, quoted=True),
            exp.column(GROUP_COLUMN),
            exp.alias_(exp.column("_key"), self.key_name, quoted=True),
            *[exp.column(a.name, quoted=True) for a in self.attributes],
            exp.alias_(final_status, "_status"),
            exp.alias_(final_reason, "_reason"),
            exp.column("_key_raw"),
        ).from_(ranked.subquery("r"))

    def select(self, group: str | None = None) -> exp.Select:
        """``query()`` limited to one treatment group, or all of them."""
        select = self.query()
        if group is not None:
            select = select.where(
                exp.EQ(this=exp.column(GROUP_COLUMN), expression=exp.Literal.string(group))
            )
        return select

    def sql(self, group: str | None = None) -> str:
        return self.select(group).sql(dialect=self.campaign.dialect)


class AudienceUnit:
    """One audience as a destination receives it: a destination with all of its groups
    (``send_groups: together``) or with one group (``separately``)."""

    def __init__(self, rows: DestinationAudience, group: str | None) -> None:
        self.rows = rows
        self.group = group
        self.report = AudienceReport()
        campaign = rows.campaign.name
        self.audience_name = campaign if group is None else f"{campaign}_{group}"
        # Set by the sync engine: people never to send to Listrak again, whatever the tables say.
        self.forgotten: ForgottenSet | None = None

    @property
    def destination(self) -> str:
        return self.rows.name

    @property
    def columns(self) -> list[str]:
        """The columns of every batch ``batches()`` yields."""
        key = self.rows.campaign.config.warehouse.customer_key
        return [key, GROUP_COLUMN, self.rows.key_name, *(a.name for a in self.rows.attributes)]

    def batches(self, batch_size: int = 65_536) -> Iterator[pa.RecordBatch]:
        """Deliverable rows (one per key) as Arrow batches; fills ``report`` while streaming."""
        self.report = AudienceReport(sample_size=self.report.sample_size)
        warehouse = self.rows.campaign.warehouse
        columns = self.columns
        for batch in warehouse.stream(self.rows.sql(self.group), batch_size=batch_size):
            if batch.num_rows == 0:
                continue
            batch = self._suppress(batch)
            self._tally(batch)
            ok = pc.equal(batch.column("_status"), "ok")
            # Usually every row is deliverable: skip the filter's copy of the batch.
            kept = batch if pc.all(ok).as_py() else batch.filter(ok)
            kept = kept.select(columns)
            if kept.num_rows:
                yield kept

    def _suppress(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Rows of forgotten people become ``forgotten``: counted, never delivered."""
        if self.forgotten is None:
            return batch
        status = batch.column("_status")
        hit = pc.and_(
            pc.equal(status, "ok"),
            self.forgotten.mask(batch.column(self.rows.key_name), self.rows.key_name),
        )
        if not pc.any(hit).as_py():
            return batch
        names = batch.schema.names
        columns = list(batch.columns)
        columns[names.index("_status")] = pc.if_else(hit, "forgotten", status)
        reason = batch.column("_reason")
        columns[names.index("_reason")] = pc.if_else(
            hit, pa.scalar("forgotten (a deletion request)", reason.type), reason
        )
        return pa.RecordBatch.from_arrays(columns, schema=batch.schema)

    def _tally(self, batch: pa.RecordBatch) -> None:
        # value_counts per group rather than Table.group_by: group_by loads pyarrow's Acero
        # engine, and with it pyarrow.dataset and pandas (half a second of every sync).
        groups = batch.column(GROUP_COLUMN)
        statuses = batch.column("_status")
        distinct = pc.unique(groups)
        for group in distinct.to_pylist():
            if len(distinct) == 1:
                mine = statuses
            elif group is None:
                mine = statuses.filter(pc.is_null(groups))
            else:
                mine = statuses.filter(pc.equal(groups, group))
            counted = pc.value_counts(mine)
            for status, count in zip(
                counted.field("values").to_pylist(),
                counted.field("counts").to_pylist(),
                strict=True,
            ):
                self.report.counts[(str(group), str(status))] += int(count)
        # The sample is the rejected rows with the lowest customer keys, whatever order the
        # engine streams rows in: the same data gives the same sample on every engine.
        # Forgotten people are counts only: their key never goes into a sample or a record.
        size = self.report.sample_size
        shown = pc.and_(
            pc.not_equal(batch.column("_status"), "ok"),
            pc.not_equal(batch.column("_status"), "forgotten"),
        )
        key = self.rows.campaign.config.warehouse.customer_key
        rejected = batch.filter(shown).select([key, GROUP_COLUMN, "_key_raw", "_status", "_reason"])
        if size <= 0 or rejected.num_rows == 0:
            return
        lowest = pc.take(rejected, pc.sort_indices(rejected, [(key, "ascending")])[:size])
        found = self.report.rejected_sample + [
            {
                "customer_key": row[key],
                "group": row[GROUP_COLUMN],
                "raw_key": row["_key_raw"],
                "status": row["_status"],
                "reason": row["_reason"],
            }
            for row in lowest.to_pylist()
        ]
        found.sort(key=lambda r: (r["customer_key"] is None, r["customer_key"]))
        self.report.rejected_sample = found[:size]

    def counts(self) -> AudienceReport:
        """Counts per (group, status) computed in the engine, without streaming rows."""
        inner = self.rows.select(self.group)
        counted = (
            exp.select(
                exp.column(GROUP_COLUMN),
                exp.column("_status"),
                exp.alias_(exp.Count(this=exp.Star()), "n"),
            )
            .from_(inner.subquery("u"))
            .group_by(exp.column(GROUP_COLUMN), exp.column("_status"))
        )
        result = self.rows.campaign.warehouse.query(counted.sql(dialect=self.rows.campaign.dialect))
        report = AudienceReport()
        for row in result.to_pylist():
            report.counts[(str(row[GROUP_COLUMN]), str(row["_status"]))] = int(row["n"])
        return report

    def sample(self, limit: int = 10, *, rejected: bool = False) -> pa.Table:
        """A few rows (deliverable ones, or rejected ones with their reason), lowest keys first."""
        campaign = self.rows.campaign
        inner = self.rows.select(self.group)
        key = campaign.config.warehouse.customer_key
        status = exp.column("_status")
        where = (exp.NEQ if rejected else exp.EQ)(this=status, expression=exp.Literal.string("ok"))
        columns = [exp.column(c, quoted=True) for c in self.columns]
        if rejected:
            columns += [exp.column("_key_raw"), status, exp.column("_reason")]
        query = (
            exp.select(*columns)
            .from_(inner.subquery("u"))
            .where(where)
            .order_by(exp.column(key, quoted=True))
            .limit(limit)
        )
        return campaign.warehouse.query(query.sql(dialect=campaign.dialect))


class CampaignAudience:
    """A campaign's audience: members, groups, and what each destination receives."""

    def __init__(
        self,
        config: ProjectConfig,
        warehouse: Warehouse,
        name: str,
        *,
        as_of: dt.date | None = None,
        segments: SegmentResolver | None = None,
    ) -> None:
        definition = config.campaigns.get(name)
        if definition is None:
            raise AudienceError(
                [Issue(f"no campaign named {name!r}", close_match(name, list(config.campaigns)))]
            )
        self.config = config
        self.warehouse = warehouse
        self.name = name
        self.definition: Campaign = definition
        self.segments = segments or SegmentResolver(config, warehouse, as_of=as_of)
        self.salt = definition.salt or name

    @property
    def dialect(self) -> str:
        return self.warehouse.dialect

    @property
    def group_names(self) -> list[str]:
        names = [g.name for g in self.definition.groups]
        return [*names, CONTROL_GROUP] if self.definition.control else names

    def members_query(self) -> exp.Select:
        """``customer key, treatment_group`` for every member (control group included)."""
        key = self.config.warehouse.customer_key
        segment = self.segments.select(self.definition.segment).subquery("seg")
        seg_key = exp.column(
            self.segments.select(self.definition.segment).selects[0].alias_or_name,
            table="seg",
            quoted=True,
        )
        members = exp.select(exp.alias_(seg_key, key, quoted=True)).distinct().from_(segment)
        for i, excluded in enumerate(self.definition.exclude):
            other = self.segments.select(excluded)
            alias = f"x{i}"
            other_key = exp.column(other.selects[0].alias_or_name, table=alias, quoted=True)
            members = members.where(
                exp.not_(
                    exp.Exists(
                        this=exp.select(exp.Literal.number(1))
                        .from_(other.subquery(alias))
                        .where(exp.EQ(this=other_key, expression=seg_key.copy()))
                    )
                )
            )
        shares = [(g.name, g.percent) for g in self.definition.groups]
        if self.definition.control:
            shares.append((CONTROL_GROUP, self.definition.control.percent))
        bucket = bucket_expression(
            exp.column(key, table="mm", quoted=True), self.salt, self.dialect
        )
        return exp.select(
            exp.column(key, table="mm", quoted=True),
            exp.alias_(group_expression(bucket, shares), GROUP_COLUMN),
        ).from_(members.subquery("mm"))

    def group_sizes(self) -> dict[str, int]:
        """Members per treatment group (control included), in the configured order."""
        query = (
            exp.select(exp.column(GROUP_COLUMN), exp.alias_(exp.Count(this=exp.Star()), "n"))
            .from_(self.members_query().subquery("g"))
            .group_by(exp.column(GROUP_COLUMN))
        )
        found = {
            str(r[GROUP_COLUMN]): int(r["n"])
            for r in self.warehouse.query(query.sql(dialect=self.dialect)).to_pylist()
        }
        return {g: found.get(g, 0) for g in self.group_names}

    def destinations(self, *, strict: bool = True) -> dict[str, DestinationAudience]:
        """Each destination the campaign sends to, with the groups that send to it; with
        ``strict`` False, names that are not email/SMS destinations are skipped (validation
        reports them on its own)."""
        groups: dict[str, list[str]] = {}
        for group in self.definition.groups:
            for target in group.destinations:
                groups.setdefault(target, []).append(group.name)
        result: dict[str, DestinationAudience] = {}
        for target, names in groups.items():
            destination = self.config.destinations.get(target)
            if not isinstance(destination, EmailDestination | SmsDestination):
                if not strict:
                    continue
                raise AudienceError(
                    [
                        Issue(
                            f"campaign {self.name!r} sends to {target!r}, which is not an email "
                            "or SMS destination"
                        )
                    ]
                )
            result[target] = DestinationAudience(self, target, destination, names)
        return result

    def units(self) -> list[AudienceUnit]:
        """What to hand to destinations, following ``send_groups``."""
        units: list[AudienceUnit] = []
        for rows in self.destinations().values():
            if self.definition.send_groups == "together":
                units.append(AudienceUnit(rows, None))
            else:
                units.extend(AudienceUnit(rows, g) for g in rows.groups)
        return units


def _attributes(
    defaults: list[AttributeMapping], edits: CampaignDestination
) -> list[AttributePlan]:
    """The destination's default attributes with the campaign's edits applied."""
    chosen = list(edits.attributes) if edits.attributes is not None else list(defaults)
    removed = {r.lower() for r in edits.remove_attributes}
    kept = [
        a for a in chosen if a.column.lower() not in removed and a.target.lower() not in removed
    ]
    kept += edits.add_attributes
    return [AttributePlan(a.column, a.target) for a in kept]
