"""Segments by name: each compiles (once per session) to a query of distinct customer keys."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlglot import exp

from ..config.models import ProjectConfig, Segment
from ..warehouse import Warehouse
from .compiler import FilterCompiler
from .errors import AudienceError, Issue
from .schema import WarehouseSchema, close_match
from .sql_segment import parse_segment_sql

__all__ = ["SegmentResolver"]


@dataclass
class SegmentResolver:
    """Compiles a project's segments against one warehouse."""

    config: ProjectConfig
    warehouse: Warehouse
    as_of: dt.date | None = None
    schema: WarehouseSchema = field(init=False)
    _compiled: dict[str, exp.Select] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.schema = WarehouseSchema(self.warehouse)

    @property
    def dialect(self) -> str:
        return self.warehouse.dialect

    def definition(self, name: str) -> Segment:
        segment = self.config.segments.get(name)
        if segment is None:
            hint = close_match(name, list(self.config.segments))
            raise AudienceError([Issue(f"no segment named {name!r}", hint)])
        return segment

    def select(self, name: str) -> exp.Select:
        """``SELECT <customer key> ...`` for segment ``name``: one row per customer (the
        filter form selects from the customer table, which is keyed by customer)."""
        if name not in self._compiled:
            segment = self.definition(name)
            warehouse = self.config.warehouse
            if segment.sql is not None:
                query = parse_segment_sql(
                    segment.sql,
                    self.schema,
                    dialect=self.dialect,
                    customer_key=warehouse.customer_key,
                )
            else:
                assert segment.filter is not None
                compiler = FilterCompiler(
                    self.schema,
                    customer_table=warehouse.customer_table,
                    customer_key=warehouse.customer_key,
                    as_of=self.as_of,
                )
                query = compiler.select(segment.filter)
            self._compiled[name] = query
        return self._compiled[name].copy()

    def sql(self, name: str) -> str:
        return self.select(name).sql(dialect=self.dialect, pretty=True)

    def size(self, name: str) -> int:
        counted = exp.select(exp.Count(this=exp.Star())).from_(self.select(name).subquery("s"))
        table = self.warehouse.query(counted.sql(dialect=self.dialect))
        return int(table.column(0)[0].as_py())
