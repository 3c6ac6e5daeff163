"""The plan: the current audience diffed against what the destination held, in DuckDB.

The audience is loaded straight from the warehouse's Arrow batches into the run's DuckDB
connection (``load_audience``; attributes as the text sent to Listrak) and diffed against
``previous.parquet`` in the run's work folder (the last committed snapshot, or what Listrak
holds on a first / ``--full`` run). One query classifies every key — ``enter``, ``change``
(attribute hash differs), ``same``, ``leave``, ``rest`` (a previous non-member still outside the
audience) — assigns rows to the destination's step groups and cuts the groups into parts. The
result is ``plan.parquet``, written once and read by every step, so a resumed run applies exactly
the plan it journaled. It holds every row a step takes or whose snapshot row may change; an
unchanged member (``same`` or ``rest`` taken by no step) keeps its previous row, so it is left
out of the plan and copied from ``previous.parquet`` when the next snapshot is computed from the
plan and the per-step results. No Python runs per row.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ..state.private import private_file, private_folder, restrict
from .steps import ROW_SCHEMA, StepGroup

__all__ = [
    "CHANGES",
    "PLANNED",
    "SNAPSHOT_SCHEMA",
    "PlanFiles",
    "PlanSummary",
    "PlannedStep",
    "as_audience",
    "audience_schema",
    "classify_sql",
    "counts_sql",
    "diff_schema",
    "empty_snapshot_sql",
    "group_sql",
    "remote_schema",
]

CHANGES = ("enter", "change", "same", "leave", "rest")

SNAPSHOT_SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("attr_hash", pa.string()),
        ("member", pa.bool_()),
        ("owned", pa.bool_()),
        ("declined", pa.bool_()),
        ("state", pa.string()),
        ("run_id", pa.string()),
    ]
)


def audience_schema(attributes: int) -> pa.Schema:
    return pa.schema(
        [("customer_key", pa.string()), ("treatment_group", pa.string()), ("key", pa.string())]
        + [(f"attr_{i}", pa.string()) for i in range(attributes)]
    )


def as_audience(
    batch: pa.RecordBatch,
    schema: pa.Schema,
    normalize: Callable[[pa.RecordBatch], pa.RecordBatch],
) -> pa.RecordBatch:
    """An audience unit's batch (customer key, group, key, attributes) as ``schema``
    (``audience_schema``): renamed, attributes normalised to the text sent to Listrak, all text.
    The DuckDB plan and the Spark plan (on Spark's Python workers) both shape rows here."""
    renamed = pa.RecordBatch.from_arrays(
        [
            batch.column(0).cast(pa.string()),
            batch.column(1).cast(pa.string()),
            batch.column(2).cast(pa.string()),
            *batch.columns[3:],
        ],
        names=schema.names,
    )
    normalized = normalize(renamed)
    return pa.RecordBatch.from_arrays(
        [c if c.type == pa.string() else c.cast(pa.string()) for c in normalized.columns],
        schema=schema,
    )


def remote_schema(attributes: int) -> pa.Schema:
    """What Listrak holds; ``owned`` (null: not recorded there) says the destination added it."""
    return pa.schema(
        [("key", pa.string()), ("member", pa.bool_()), ("known", pa.bool_())]
        + [(f"attr_{i}", pa.string()) for i in range(attributes)]
        + [("owned", pa.bool_())]
    )


@dataclass(frozen=True)
class PlannedStep:
    step_id: str
    kind: str
    rows: int


@dataclass
class PlanSummary:
    counts: dict[str, int]
    steps: list[PlannedStep]
    removals: int  # leaving rows that a removing step group takes (flag off, unsubscribe)
    members: int  # members before the run (previous rows with member, not declined)
    by_kind: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts,
            "steps": [{"step_id": s.step_id, "kind": s.kind, "rows": s.rows} for s in self.steps],
            "removals": self.removals,
            "members": self.members,
            "by_kind": self.by_kind,
        }


def _lit(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _hash_sql(attributes: int, alias: str) -> str:
    """md5 of the attribute texts; empty and NULL are the same (Listrak stores no value)."""
    if attributes == 0:
        return "md5('')"
    parts = ", ".join(f"coalesce(nullif({alias}.attr_{i}, ''), chr(0))" for i in range(attributes))
    return f"md5(concat_ws(chr(31), {parts}))"


def classify_sql(attributes: int, audience: str, previous: str) -> str:
    """The diff of ``audience`` (``audience_schema``) against ``previous`` (a snapshot), one row
    per key with its change (``CHANGES``), in DuckDB's SQL; Spark runs it transpiled by sqlglot
    (``spark_plan``), so both engines classify and hash alike."""
    attrs = "".join(f", a.attr_{i}" for i in range(attributes))
    return f"""
        WITH a AS (
            SELECT *, {_hash_sql(attributes, "aud")} AS attr_hash FROM {audience} aud
        ), p AS (SELECT * FROM {previous})
        SELECT coalesce(a.key, p.key) AS key,
            CASE
                WHEN a.key IS NOT NULL AND (p.key IS NULL OR NOT p.member) THEN 'enter'
                WHEN a.key IS NOT NULL AND p.attr_hash IS DISTINCT FROM a.attr_hash
                    THEN 'change'
                WHEN a.key IS NOT NULL THEN 'same'
                WHEN p.member THEN 'leave'
                ELSE 'rest'
            END AS change,
            a.attr_hash, p.attr_hash AS prev_hash, p.key IS NOT NULL AS prev_exists,
            coalesce(p.member, FALSE) AS prev_member,
            coalesce(p.owned, FALSE) AS prev_owned,
            coalesce(p.declined, FALSE) AS prev_declined,
            p.state AS prev_state, p.run_id AS prev_run_id,
            a.customer_key, a.treatment_group{attrs}
        FROM a FULL JOIN p ON p.key = a.key
    """


def diff_schema(attributes: int) -> pa.Schema:
    """The columns of ``classify_sql``'s result, and ``grp`` (the step group taking a row)."""
    return pa.schema(
        [
            ("key", pa.string()),
            ("change", pa.string()),
            ("attr_hash", pa.string()),
            ("prev_hash", pa.string()),
            ("prev_exists", pa.bool_()),
            ("prev_member", pa.bool_()),
            ("prev_owned", pa.bool_()),
            ("prev_declined", pa.bool_()),
            ("prev_state", pa.string()),
            ("prev_run_id", pa.string()),
            ("customer_key", pa.string()),
            ("treatment_group", pa.string()),
        ]
        + [(f"attr_{i}", pa.string()) for i in range(attributes)]
        + [("grp", pa.int32())]
    )


def group_sql(groups: Sequence[StepGroup]) -> str:
    """The index of the first step group whose ``where`` a diff row matches (NULL: none)."""
    cases = " ".join(f"WHEN {g.where} THEN {i}" for i, g in enumerate(groups))
    return f"CASE {cases} END" if groups else "NULL"


def counts_sql(groups: Sequence[StepGroup], diff: str, extra: str = "") -> str:
    """Per change: rows, rows a removing group takes, and members before the run."""
    removing = [str(i) for i, g in enumerate(groups) if g.removes]
    removes = f"grp IN ({', '.join(removing)})" if removing else "FALSE"
    return f"""
        SELECT change, count(*) AS n, count(*) FILTER (WHERE {removes}) AS removals,
            count(*) FILTER (WHERE prev_member AND NOT prev_declined) AS members
            {", " + extra if extra else ""}
        FROM {diff} GROUP BY 1
    """


def _counts(
    con: duckdb.DuckDBPyConnection, groups: Sequence[StepGroup], audience: int, previous: int
) -> tuple[dict[str, int], int]:
    """Rows per change of the whole diff, and the rows removing groups take, from table
    ``diff`` holding the planned rows only: every ``enter``, ``change`` and ``leave`` row is
    planned; ``same`` and ``rest`` follow from the audience's and the snapshot's sizes (each
    key once on either side)."""
    counts = dict.fromkeys(CHANGES, 0)
    removals = 0
    new = 0  # entering keys the snapshot never held
    for change, count, removed, _, fresh in con.execute(
        counts_sql(groups, "diff", extra="count(*) FILTER (WHERE NOT prev_exists)")
    ).fetchall():
        if change in ("enter", "change", "leave"):
            counts[str(change)] = int(count)
        removals += int(removed)
        if change == "enter":
            new = int(fresh)
    counts["same"] = audience - counts["enter"] - counts["change"]
    counts["rest"] = previous - (audience - new) - counts["leave"]
    return counts, removals


# The planner's DuckDB budget: past it, joins and temporary tables spill to ``spill`` (the
# run's folder) rather than grow the process. Insertion order is not kept: every query that
# needs an order says it, and an unordered CREATE TABLE AS streams with less memory.
# While the audience streams in, a DuckDB warehouse's query holds its own budget (512MB by
# default, warehouse/duckdb/configuration.py) beside this one: both, plus the process itself,
# stay under 1.5 GB (a 10M-member sync peaked at 1.84 GB with 1GB each).
MEMORY_LIMIT = "768MB"


def _connect(spill: Path | None = None) -> duckdb.DuckDBPyConnection:
    config: dict[str, Any] = {
        "threads": os.cpu_count() or 1,
        "memory_limit": MEMORY_LIMIT,
        "preserve_insertion_order": False,
    }
    if spill is not None:
        config["temp_directory"] = str(spill)
    return duckdb.connect(config=config)


# Plan rows whose snapshot row the run may change: every row a step takes, and every change
# other than an unchanged member (``same``) or non-member (``rest``). The others keep their
# previous row, so the plan leaves them out (a 1% churn plans 1% of the audience, not all of it).
PLANNED = "grp IS NOT NULL OR change NOT IN ('same', 'rest')"


def _copy(con: duckdb.DuckDBPyConnection, query: str, target: Path) -> None:
    """Write ``query`` to ``target`` atomically: a kill leaves the old file or none."""
    staged = target.with_name(target.name + ".staged")
    options = "FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 122880"
    con.execute(f"COPY ({query}) TO {_lit(staged)} ({options})")
    restrict(staged)  # DuckDB makes the file anew, with the umask's mode
    os.replace(staged, target)


class PlanFiles:
    """The Parquet files of one run's plan, and the queries over them."""

    def __init__(self, workdir: Path, attributes: int) -> None:
        self.workdir = workdir
        self.attributes = attributes
        self.remote = workdir / "remote.parquet"
        self.previous = workdir / "previous.parquet"
        self.plan = workdir / "plan.parquet"
        self.results = workdir / "results"
        self.spill = workdir / "spill"  # DuckDB's temporary files past its memory limit
        # The planning connection: holds the audience from ``load_audience`` until ``build``.
        self._planning: duckdb.DuckDBPyConnection | None = None

    # --- audience --------------------------------------------------------------------------

    def load_audience(self, batches: Iterable[pa.RecordBatch]) -> int:
        """Take the audience (``audience_schema`` batches, attributes as the text sent) into
        the planning connection; returns its row count. Nothing is written to disk: the plan
        keeps what a resumed run needs."""
        self.close()
        schema = audience_schema(self.attributes)
        reader = pa.RecordBatchReader.from_batches(schema, batches)
        con = _connect(self.spill)
        self._planning = con
        con.register("audience_stream", reader)
        con.execute("CREATE TEMP TABLE audience AS SELECT * FROM audience_stream")
        con.unregister("audience_stream")
        found = con.execute("SELECT count(*) FROM audience").fetchone()
        return int(found[0]) if found else 0

    def close(self) -> None:
        """Drop the planning connection and the audience it holds."""
        if self._planning is not None:
            self._planning.close()
            self._planning = None

    # --- previous --------------------------------------------------------------------------

    def previous_from_snapshot(self, snapshot: Path | None) -> None:
        """The last committed snapshot (copied: the run must not see a later commit)."""
        if snapshot is not None and snapshot.exists():
            staged = private_file(self.previous.with_name(self.previous.name + ".staged"))
            shutil.copyfile(snapshot, staged)
            os.replace(staged, self.previous)
            return
        con = _connect(self.spill)
        try:
            _copy(con, empty_snapshot_sql(), self.previous)
        finally:
            con.close()

    def previous_from_remote(self, snapshot: Path | None) -> None:
        """What Listrak holds (``remote.parquet``), with ownership as Listrak records it or,
        where it records none, as the snapshot remembers it."""
        con = _connect(self.spill)
        try:
            if snapshot is not None and snapshot.exists():
                snap = f"read_parquet({_lit(snapshot)})"
            else:
                snap = f"({empty_snapshot_sql()})"
            query = f"""
                SELECT coalesce(r.key, s.key) AS key,
                       CASE WHEN r.known THEN {_hash_sql(self.attributes, "r")} END AS attr_hash,
                       coalesce(r.member, FALSE) AS member,
                       coalesce(r.owned, FALSE) OR coalesce(s.owned, FALSE) AS owned,
                       coalesce(s.declined, FALSE) AND r.key IS NULL AS declined,
                       s.state AS state, s.run_id AS run_id
                FROM (SELECT * FROM read_parquet({_lit(self.remote)})) r
                FULL JOIN {snap} s ON s.key = r.key
            """
            _copy(con, query, self.previous)
        finally:
            con.close()

    # --- plan ------------------------------------------------------------------------------

    def build(self, groups: Sequence[StepGroup]) -> PlanSummary:
        """Diff the loaded audience and previous, assign step groups and parts; write
        ``plan.parquet``. The planning connection is closed afterwards."""
        con = self._planning
        if con is None:
            raise RuntimeError("no audience to plan: call load_audience() first")
        previous = f"read_parquet({_lit(self.previous)})"
        try:
            # One pass of the join, kept only where the plan keeps rows (1% churn keeps 1% of
            # the audience): nothing audience-sized is materialised after the audience itself.
            con.execute(
                f"""
                CREATE TEMP TABLE diff AS
                SELECT * FROM (
                    SELECT *, {group_sql(groups)}::INTEGER AS grp FROM (
                    {classify_sql(self.attributes, "audience", previous)}
                    )
                ) WHERE {PLANNED}
                """
            )
            found = con.execute(
                f"""
                SELECT (SELECT count(*) FROM audience),
                    count(*), count(*) FILTER (WHERE member AND NOT coalesce(declined, FALSE))
                FROM {previous}
                """
            ).fetchone()
            audience, before, members = (int(v) for v in found) if found else (0, 0, 0)
            con.execute("DROP TABLE audience")
            counts, removals = _counts(con, groups, audience, before)
            steps, by_kind = self._write_plan(con, groups)
        finally:
            self.close()
        return PlanSummary(counts, steps, removals, members, by_kind)

    def build_from_diff(
        self,
        groups: Sequence[StepGroup],
        planned: Iterable[pa.RecordBatch],
        counts: dict[str, int],
        removals: int,
        members: int,
    ) -> PlanSummary:
        """Write ``plan.parquet`` from a diff computed elsewhere (inside Spark): ``planned``
        holds the rows the plan keeps (``diff_schema``, ``grp`` assigned as :meth:`build`
        assigns it), streamed into DuckDB (which spills to disk past its memory limit) and cut
        into parts exactly as :meth:`build` cuts them; ``counts``, ``removals`` and
        ``members`` are the whole diff's."""
        self.close()
        schema = diff_schema(self.attributes)
        reader = pa.RecordBatchReader.from_batches(
            schema, (b.select(schema.names).cast(schema) for b in planned)
        )
        con = _connect(self.spill)
        try:
            con.register("planned_stream", reader)
            con.execute(f"CREATE TEMP TABLE diff AS SELECT * FROM planned_stream WHERE {PLANNED}")
            con.unregister("planned_stream")
            steps, by_kind = self._write_plan(con, groups)
        finally:
            con.close()
        full = dict.fromkeys(CHANGES, 0) | counts
        return PlanSummary(full, steps, removals, members, by_kind)

    def _write_plan(
        self, con: duckdb.DuckDBPyConnection, groups: Sequence[StepGroup]
    ) -> tuple[list[PlannedStep], dict[str, int]]:
        """Cut the planned rows of table ``diff`` into parts and write ``plan.parquet``."""
        n = self.attributes
        kinds = " ".join(f"WHEN {i} THEN {_lit(g.kind)}" for i, g in enumerate(groups))
        rows_cap = " ".join(f"WHEN {i} THEN {int(g.max_rows)}" for i, g in enumerate(groups))
        bytes_cap = " ".join(f"WHEN {i} THEN {int(g.max_bytes)}" for i, g in enumerate(groups))
        # CSV bytes of a row, over-estimated (values quoted, attribute text counted twice for
        # doubled quotes).
        # Parts are cut on cumulative size with the widest row kept in reserve, so no part
        # passes its group's max_bytes.
        size = " + ".join(
            ["strlen(key) + 3"] + [f"coalesce(2 * strlen(attr_{i}), 0) + 3" for i in range(n)]
        )
        con.execute(
            f"""
            CREATE TEMP TABLE cut AS
            SELECT key, grp, dense_rank() OVER (
                PARTITION BY grp ORDER BY (rn - 1) // (CASE grp {rows_cap} END),
                    cum // greatest((CASE grp {bytes_cap} END) - widest, 1)) AS part
            FROM (
                SELECT key, grp,
                    row_number() OVER (PARTITION BY grp ORDER BY key) AS rn,
                    sum(size) OVER (PARTITION BY grp ORDER BY key
                                    ROWS UNBOUNDED PRECEDING) AS cum,
                    max(size) OVER (PARTITION BY grp) AS widest
                FROM (SELECT key, grp, {size} AS size FROM diff WHERE grp IS NOT NULL)
            )
            """
            if groups
            else "CREATE TEMP TABLE cut AS SELECT NULL::VARCHAR AS key, NULL::INTEGER AS grp,"
            " NULL::BIGINT AS part WHERE FALSE"
        )
        step_expr = (
            f"(CASE c.grp {kinds} END) || '-' || lpad(c.part::VARCHAR, 4, '0')"
            if groups
            else "NULL::VARCHAR"
        )
        _copy(
            con,
            f"SELECT d.* EXCLUDE (grp), {step_expr} AS step_id"
            f" FROM (SELECT * FROM diff WHERE {PLANNED}) d LEFT JOIN cut c ON c.key = d.key",
            self.plan,
        )
        steps: list[PlannedStep] = []
        by_kind: dict[str, int] = {}
        rows = con.execute(
            "SELECT grp, part, count(*) FROM cut GROUP BY 1, 2 ORDER BY 1, 2"
        ).fetchall()
        for grp, part, count in rows:
            kind = groups[int(grp)].kind
            steps.append(PlannedStep(f"{kind}-{int(part):04d}", kind, int(count)))
            by_kind[kind] = by_kind.get(kind, 0) + int(count)
        return steps, by_kind

    def summary_sample(self, limit: int = 10) -> list[dict[str, Any]]:
        """A few planned rows per change (not ``same``/``rest``), lowest keys first."""
        con = _connect(self.spill)
        try:
            table = con.sql(
                f"""
                SELECT * EXCLUDE (rk) FROM (
                    SELECT *, row_number() OVER (PARTITION BY change ORDER BY key) AS rk
                    FROM read_parquet({_lit(self.plan)})
                    WHERE change IN ('enter', 'change', 'leave')
                ) WHERE rk <= ? ORDER BY change, key
                """,
                params=[limit],
            ).to_arrow_table()
        finally:
            con.close()
        return [dict(row) for row in table.to_pylist()]

    def step_rows(self, step_id: str) -> pa.Table:
        """The plan rows of one step, ordered by key."""
        con = _connect(self.spill)
        try:
            return con.sql(
                f"SELECT * FROM read_parquet({_lit(self.plan)}) WHERE step_id = ? ORDER BY key",
                params=[step_id],
            ).to_arrow_table()
        finally:
            con.close()

    # --- results and the next snapshot -----------------------------------------------------

    def save_results(self, step_id: str, rows: pa.Table) -> None:
        private_folder(self.results)
        target = self.results / f"{step_id}.parquet"
        staged = private_file(target.with_name(target.name + ".staged"))
        table = rows
        for name in ("state", "field"):
            if name not in table.column_names:
                table = table.append_column(name, pa.nulls(rows.num_rows, pa.string()))
        pq.write_table(table.select(ROW_SCHEMA.names).cast(ROW_SCHEMA), staged)
        os.replace(staged, target)

    def _results_sql(self) -> str:
        files = sorted(self.results.glob("*.parquet")) if self.results.exists() else []
        if not files:
            return (
                "SELECT NULL::VARCHAR AS key, NULL::VARCHAR AS effect, NULL::VARCHAR AS result,"
                " NULL::VARCHAR AS reason, NULL::VARCHAR AS state, NULL::VARCHAR AS step"
                " WHERE FALSE"
            )
        listed = ", ".join(_lit(f) for f in files)
        return (
            f"SELECT key, effect, result, reason, state, parse_filename(filename, true) AS step"
            f" FROM read_parquet([{listed}], filename = true)"
        )

    def next_snapshot(
        self,
        defaults: dict[str, tuple[str | None, str | None]],
        run_id: str,
        *,
        unplanned: bool = True,
    ) -> Iterator[pa.RecordBatch]:
        """The snapshot after this run, as batches (the connection lives while they stream).

        ``defaults``: step id -> (effect, result) for rows a step's results do not list.
        ``unplanned=False``: only the rows of planned keys (the rest is the previous snapshot
        as it was: a cluster holding it carries them over itself, ``spark_snapshots``)."""
        con = _connect(self.spill)
        try:
            con.execute(
                "CREATE TEMP TABLE defaults (step_id VARCHAR, effect VARCHAR, result VARCHAR)"
            )
            if defaults:
                con.executemany(
                    "INSERT INTO defaults VALUES (?, ?, ?)",
                    [[k, e, r] for k, (e, r) in defaults.items()],
                )
            # Rows the plan leaves out are unchanged: their previous row, as the plan would
            # have carried it over.
            carried = f"""
                UNION ALL
                SELECT key, attr_hash, coalesce(member, FALSE), coalesce(owned, FALSE),
                    coalesce(declined, FALSE), state, run_id
                FROM read_parquet({_lit(self.previous)}) s
                ANTI JOIN (SELECT key FROM read_parquet({_lit(self.plan)})) p ON p.key = s.key
            """
            query = f"""
                WITH r AS ({self._results_sql()}),
                x AS (
                    SELECT p.*, coalesce(r.effect, d.effect) AS eff, r.state AS new_state
                    FROM read_parquet({_lit(self.plan)}) p
                    LEFT JOIN r ON r.key = p.key AND r.step = p.step_id
                    LEFT JOIN defaults d ON d.step_id = p.step_id
                )
                SELECT key,
                    CASE WHEN eff IN ('added', 'applied', 'declined') AND change <> 'leave'
                         THEN attr_hash
                         WHEN eff IS NULL AND change = 'same' THEN attr_hash
                         ELSE prev_hash END AS attr_hash,
                    CASE WHEN eff IN ('added', 'applied', 'declined') THEN change <> 'leave'
                         ELSE prev_member END AS member,
                    coalesce(eff = 'added', FALSE) OR prev_owned AS owned,
                    CASE WHEN eff = 'declined' THEN TRUE
                         WHEN eff IN ('added', 'applied') THEN FALSE
                         ELSE prev_declined END AS declined,
                    coalesce(new_state, prev_state) AS state,
                    CASE WHEN eff IN ('added', 'applied', 'declined') THEN ?
                         ELSE prev_run_id END AS run_id
                FROM x
                WHERE NOT coalesce(
                    eff = 'absent'
                    OR (eff = 'failed' AND NOT prev_exists)
                    OR (eff IS NULL AND change = 'leave')
                    OR (eff IS NULL AND change IN ('enter', 'change') AND NOT prev_exists),
                    FALSE)
                {carried if unplanned else ""}
            """
            reader = con.sql(query, params=[run_id]).to_arrow_reader(65_536)
            for batch in reader:
                yield batch.cast(SNAPSHOT_SCHEMA)
        finally:
            con.close()

    def planned_keys(self) -> Iterator[pa.RecordBatch]:
        """The key of every row in the plan (one column, ``key``)."""
        plan = pq.ParquetFile(self.plan)
        yield from plan.iter_batches(batch_size=262_144, columns=["key"])

    def changes(
        self, defaults: dict[str, tuple[str | None, str | None]]
    ) -> Iterator[pa.RecordBatch]:
        """Every planned row a step took, with what the step did to it: ``key``,
        ``customer_key``, ``change``, ``action`` (the step kind), ``step_id``, ``outcome``
        (the effect), ``result`` and ``reason`` — the rows of a destination's audit table.

        ``defaults``: as for :meth:`next_snapshot`."""
        con = _connect(self.spill)
        try:
            con.execute(
                "CREATE TEMP TABLE defaults (step_id VARCHAR, effect VARCHAR, result VARCHAR)"
            )
            if defaults:
                con.executemany(
                    "INSERT INTO defaults VALUES (?, ?, ?)",
                    [[k, e, r] for k, (e, r) in defaults.items()],
                )
            query = f"""
                WITH r AS ({self._results_sql()})
                SELECT p.key, p.customer_key::VARCHAR AS customer_key, p.change,
                    regexp_replace(p.step_id, '-[0-9]+$', '') AS action, p.step_id,
                    coalesce(r.effect, d.effect) AS outcome,
                    coalesce(r.result, d.result) AS result, r.reason
                FROM read_parquet({_lit(self.plan)}) p
                LEFT JOIN r ON r.key = p.key AND r.step = p.step_id
                LEFT JOIN defaults d ON d.step_id = p.step_id
                WHERE p.step_id IS NOT NULL
            """
            yield from con.sql(query).to_arrow_reader(65_536)
        finally:
            con.close()


def empty_snapshot_sql() -> str:
    """A snapshot with no rows (a first run), in DuckDB's SQL."""
    return (
        "SELECT NULL::VARCHAR AS key, NULL::VARCHAR AS attr_hash, NULL::BOOLEAN AS member,"
        " NULL::BOOLEAN AS owned, NULL::BOOLEAN AS declined, NULL::VARCHAR AS state,"
        " NULL::VARCHAR AS run_id WHERE FALSE"
    )
