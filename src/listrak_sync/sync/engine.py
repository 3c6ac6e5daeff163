"""The run lifecycle: lock, resume or start, prepare, plan, guard, journal, apply, commit.

A run's life is written to the state store before each thing it does, in phases recorded in the
run's details: ``preparing`` → ``planning`` → ``planned`` (plan Parquet written, every step
journaled ``pending``) → ``applying`` → ``committing`` → finished. A run killed before
``planned`` has sent nothing and is marked ``interrupted``; one killed later is finished by the
next ``sync`` from its journal (steps already ``done`` are skipped; a step that may have reached
Listrak is looked up, not re-sent), then a fresh run brings the destination up to date.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..audiences.campaigns import AudienceUnit, CampaignAudience
from ..errors import UsageError
from ..listrak import ClientSettings, Credentials, ListrakClient, ListrakError
from ..privacy import forgotten_set
from ..privacy.keyed_hash import load_salt
from ..project.connection import open_warehouse
from ..project.loader import Project
from ..project.secrets import resolve_listrak
from ..state import LockHeld, RowOutcome, Run, Step
from ..state.private import private_file, private_folder
from ..state.protocol import StateBackend
from ..state.warehouse import WarehouseStateStore
from ..warehouse import Warehouse
from . import hooks, registry
from .context import RunContext as TypedContext
from .destination import Effect, StepGroup, StepResult, SyncDestination
from .errors import StepStopped, SyncError
from .memory import peak_rss_mb
from .options import SyncOptions
from .plan import (
    SNAPSHOT_SCHEMA,
    PlanFiles,
    PlannedStep,
    PlanSummary,
    as_audience,
    audience_schema,
    remote_schema,
)
from .refusals import ADDRESS, PERMANENT_OUTCOMES, classify, snake_case
from .report import Reporter, UnitOutcome
from .spark_plan import plan_in_spark, plans_in_spark, without_forgotten
from .spark_snapshots import RECORD, CatalogSnapshots
from .warm_up import import_in_background
from .workspace import FORGET_MARK, Workspace

__all__ = ["SyncError", "plan_campaign", "snake_case", "sync_campaign", "sync_campaign_async"]

# The engine drives destinations of every target type.
RunContext: TypeAlias = TypedContext[Any]

_RESUMABLE_PHASES = ("planned", "applying", "committing")
_PROBLEM_EFFECTS = (Effect.DECLINED.value, Effect.FAILED.value)


def sync_campaign(
    project: Project,
    campaign: str,
    options: SyncOptions | None = None,
    reporter: Reporter | None = None,
    *,
    as_of: dt.date | None = None,
    client: ListrakClient | None = None,
    warehouse: Warehouse | None = None,
) -> list[UnitOutcome]:
    """Sync (or with ``options.dry_run`` only plan) every audience unit of ``campaign``.

    Runs its own event loop; inside a running one, await :func:`sync_campaign_async`."""
    return asyncio.run(
        sync_campaign_async(
            project,
            campaign,
            options,
            reporter,
            as_of=as_of,
            client=client,
            warehouse=warehouse,
        )
    )


def plan_campaign(
    project: Project,
    campaign: str,
    options: SyncOptions | None = None,
    reporter: Reporter | None = None,
    *,
    as_of: dt.date | None = None,
    client: ListrakClient | None = None,
    warehouse: Warehouse | None = None,
) -> list[UnitOutcome]:
    """Plan ``campaign``: what each destination would get. Reads, never writes."""
    chosen = options or SyncOptions()
    dry = SyncOptions(**{**chosen.__dict__, "dry_run": True})
    return sync_campaign(
        project, campaign, dry, reporter, as_of=as_of, client=client, warehouse=warehouse
    )


async def sync_campaign_async(
    project: Project,
    campaign: str,
    options: SyncOptions | None = None,
    reporter: Reporter | None = None,
    *,
    as_of: dt.date | None = None,
    client: ListrakClient | None = None,
    warehouse: Warehouse | None = None,
) -> list[UnitOutcome]:
    """:func:`sync_campaign` for a running event loop.

    ``client`` (holding the credentials of the destinations' integrations) and ``warehouse``
    replace the ones the project describes; the caller opened them and closes them."""
    options = options or SyncOptions()
    reporter = reporter or Reporter()
    workspace = Workspace.for_project(project)
    outcomes: list[UnitOutcome] = []
    # Read-only: syncs, plans and previews share the warehouse file (DuckDB lets one process
    # write it); what the sync derives from it (the phone cache) lives in its scratch catalog.
    opened = (
        nullcontext(warehouse) if warehouse is not None else open_warehouse(project, read_only=True)
    )
    with workspace.store() as store, opened as source:
        _check_forget_state(workspace, store)
        audience = CampaignAudience(project.config, source, campaign, as_of=as_of)
        units = audience.units()
        forgotten = forgotten_set(workspace.root)
        for unit in units:
            unit.forgotten = forgotten
        if options.destinations:
            unknown = sorted(set(options.destinations) - {u.destination for u in units})
            if unknown:  # the caller named it: a usage error (exit 2), not a failed sync
                raise UsageError(
                    f"campaign {campaign!r} does not send to {', '.join(unknown)} "
                    f"(it sends to {', '.join(sorted({u.destination for u in units}))})"
                )
            units = [u for u in units if u.destination in options.destinations]
        for unit in units:
            config = unit.rows.destination
            destination = registry.create(config.type, unit.destination, config, unit)
            sync = UnitSync(project, unit, destination, store, workspace, options, reporter)
            if client is not None:
                outcomes.append(await sync.run(client))
                continue
            own = _client(project, config.credential, destination.integration, options)
            async with own:
                outcomes.append(await sync.run(own))
    return outcomes


def _check_forget_state(workspace: Workspace, store: StateBackend) -> None:
    """With the state in the warehouse, refuse to sync where ``forget``'s memory (kept in
    ``.listrak-sync/``) is missing while a forget run recorded that it forgets people: the
    sync would add them back to Listrak."""
    if workspace.shared is None or load_salt(workspace.root, create=False) is not None:
        return
    where = store.checkpoint(*FORGET_MARK)
    if where is not None:
        raise SyncError(
            "`listrak-sync forget` forgets people in this project (it ran on "
            f"{where}), and whom it forgot is kept in that runner's .listrak-sync/ "
            "(forget.salt and state.sqlite), which is not here: syncing without it could add "
            "them back to Listrak, so nothing was synced. Run syncs where forget runs, or keep "
            ".listrak-sync/ on a volume every runner shares."
        )


def _client(
    project: Project, credential: str, integration: str, options: SyncOptions
) -> ListrakClient:
    resolved = resolve_listrak(project, credential)
    hosts = project.config.listrak
    settings = ClientSettings.model_validate(
        {
            "api_url": hosts.api_url,
            "auth_url": hosts.auth_url,
            "import_poll_interval": 1.0,
            "import_poll_max_interval": 10.0,
            **options.client,
        }
    )
    credentials = Credentials(client_id=resolved.client_id, client_secret=resolved.client_secret)
    return ListrakClient(settings=settings, **{integration: credentials})  # type: ignore[arg-type]


class UnitSync:
    """One audience unit synced to one destination."""

    def __init__(
        self,
        project: Project,
        unit: AudienceUnit,
        destination: SyncDestination[Any, Any],
        store: StateBackend,
        workspace: Workspace,
        options: SyncOptions,
        reporter: Reporter,
    ) -> None:
        self.project = project
        self.unit = unit
        self.destination = destination
        self.store = store
        self.workspace = workspace
        self.options = options
        self.reporter = reporter
        campaign = unit.rows.campaign.name
        self.target = f"{campaign}/{unit.destination}" + (f"/{unit.group}" if unit.group else "")
        self.snapshot_name = self.target.replace("/", "__")
        self.snapshots = workspace.snapshots(store)
        # State in the warehouse: the run's plan files are kept there too, so another working
        # directory can finish a killed run, and each commit writes the audit table.
        self.shared = store if isinstance(store, WarehouseStateStore) else None
        self._holder = f"pid-{os.getpid()}"  # the name of the locks held; a run id once known
        self._planned_against: str | None = None  # the cluster's table a plan was made against
        # Snapshots also kept in a Spark cluster's catalog (warehouse.snapshots), where a sync
        # over Spark Connect plans against them.
        self.catalog = CatalogSnapshots.configured(
            unit.rows.campaign.warehouse, unit.rows.campaign.config.warehouse.snapshots, self.target
        )

    def _outcome(self, status: str, **values: Any) -> UnitOutcome:
        return UnitOutcome(
            target=self.target,
            destination=self.unit.destination,
            kind=self.destination.kind,
            status=status,
            warnings=self.destination.warnings(),
            **values,
        )

    # --- entry -----------------------------------------------------------------------------

    async def run(self, client: ListrakClient) -> UnitOutcome:
        if self.options.dry_run:
            with tempfile.TemporaryDirectory(prefix="listrak-sync-plan-") as folder:
                return await self._plan_only(client, Path(folder))
        self._holder = f"pid-{os.getpid()}"
        locks = [f"sync:{self.target}", *self.destination.lock_resources()]
        taken: list[str] = []
        try:
            for resource in locks:
                self.store.acquire_lock(resource, self._holder)
                taken.append(resource)
        except LockHeld as exc:
            for resource in taken:
                self.store.release_lock(resource, self._holder)
            return self._outcome("locked", error=str(exc))
        try:
            resumed: list[Run] = []
            previous = self._resumable()
            if previous is not None:
                self.reporter.phase(self.target, f"finishing interrupted run {previous.run_id}")
                finished = await self._resume(client, previous)
                if finished.status == "failed":
                    return finished
                if finished.run is not None:
                    resumed.append(finished.run)
            outcome = await self._fresh(client)
            outcome.resumed = resumed
            return outcome
        finally:
            for resource in taken:
                self.store.release_lock(resource, self._holder)

    def _forget_work(self, run_id: str) -> None:
        """Drop a run's plan files (it finished, or can never be finished)."""
        self.workspace.remove_run_dir(run_id)
        if self.shared is not None:
            self.shared.drop_run_files(run_id)

    def _held_by(self, run_id: str) -> None:
        """The locks this sync holds now name ``run_id`` (what a refused sync reports)."""
        self.store.relabel_locks(self._holder, run_id)
        self._holder = run_id

    def _resumable(self) -> Run | None:
        latest = self.store.runs("sync", self.target, limit=1)
        if not latest:
            return None
        run = latest[0]
        phase = run.details.get("phase")
        if run.status == "running" and phase not in _RESUMABLE_PHASES:
            # Killed while preparing or planning: nothing was sent.
            self.store.finish_run(
                run.run_id,
                "interrupted",
                run.counts,
                error="stopped before its plan was complete; nothing was sent",
                details={"resumable": False},
            )
            self._forget_work(run.run_id)
            return None
        resumable = run.status in ("running", "interrupted", "failed")
        if resumable and phase in _RESUMABLE_PHASES and run.details.get("resumable", True):
            return run
        return None

    # --- plan --------------------------------------------------------------------------------

    def _context(
        self, client: ListrakClient, run_id: str, workdir: Path, resumed: bool
    ) -> RunContext:
        files = PlanFiles(workdir, len(self.unit.rows.attributes))
        return RunContext(
            run_id=run_id,
            target_name=self.target,
            store=self.store,
            files=files,
            client=client,
            options=self.options,
            attributes=list(self.unit.rows.attributes),
            resumed=resumed,
        )

    @contextmanager
    def _phase(self, ctx: RunContext, key: str, text: str) -> Iterator[None]:
        """Report a phase and add its wall time to ``ctx.timings[key]`` and this process's CPU
        time (every thread's, DuckDB's included) to ``ctx.cpu[key]`` (seconds); note the
        process's peak RSS so far in ``ctx.peak_rss_mb[key]``, which tells which phase raised it
        (wall time says little on a shared machine, CPU time and RSS hold under load)."""
        self.reporter.phase(self.target, text)
        started = time.perf_counter()
        cpu = time.process_time()
        try:
            yield
        finally:
            spent = time.perf_counter() - started
            ctx.timings[key] = round(ctx.timings.get(key, 0.0) + spent, 3)
            ctx.cpu[key] = round(ctx.cpu.get(key, 0.0) + time.process_time() - cpu, 3)
            ctx.peak_rss_mb[key] = max(ctx.peak_rss_mb.get(key, 0), peak_rss_mb())

    async def _plan(self, ctx: RunContext) -> tuple[PlanSummary, str]:
        """Prepare, read the audience and the previous state, and write the plan."""
        with self._phase(ctx, "prepare", "preparing the destination"):
            # What the audience phase will import, imported while prepare waits for Listrak.
            import_in_background()
            ctx.prepared = await self.destination.prepare(ctx)
        snapshot = await asyncio.to_thread(self.snapshots.local, self.snapshot_name, ctx.workdir)
        first = snapshot is None
        ctx.has_snapshot = not first
        with self._phase(ctx, "previous", "reading the previous state"):
            compared_with = await self._previous(ctx, snapshot, first)
        in_cluster = None
        if self.catalog is not None and compared_with == "snapshot" and snapshot is not None:
            # The cluster's copy of the committed snapshot, when it certainly is that one.
            in_cluster = await asyncio.to_thread(self.catalog.previous, self.store, snapshot)
        self._planned_against = in_cluster
        groups = self.destination.step_groups(ctx)
        summary = await asyncio.to_thread(self._diff, ctx, groups, in_cluster)
        return summary, compared_with

    def _diff(
        self, ctx: RunContext, groups: list[StepGroup], in_cluster: str | None = None
    ) -> PlanSummary:
        """Read the audience into the planning connection and plan against it, in one thread
        (the connection never crosses threads). ``in_cluster``: the previous snapshot's table
        in the Spark catalog, planned against inside Spark (Spark Connect)."""
        warehouse = self.unit.rows.campaign.warehouse
        if plans_in_spark(warehouse) or in_cluster is not None:
            # The audience, its hashes and the diff stay in Spark; only planned rows come back.
            with self._phase(ctx, "plan", "planning inside Spark"):
                return plan_in_spark(
                    warehouse,  # type: ignore[arg-type]
                    self.unit,
                    self.destination,
                    ctx.target,
                    ctx.files,
                    groups,
                    progress=lambda n: self.reporter.audience_rows(self.target, n),
                    previous_table=in_cluster,
                )
        try:
            with self._phase(ctx, "audience", "reading the audience"):
                self._load_audience(ctx)
            with self._phase(ctx, "plan", "planning"):
                return ctx.files.build(groups)
        finally:
            ctx.files.close()

    async def _previous(self, ctx: RunContext, snapshot: Path | None, first: bool) -> str:
        """Write ``previous.parquet``; returns what it was compared with."""
        compared_with = "snapshot"
        if first or self.options.full:
            self.reporter.phase(self.target, "reading what Listrak holds")
            if await self._write_remote(ctx):
                await asyncio.to_thread(ctx.files.previous_from_remote, snapshot)
                compared_with = "listrak"
            else:
                await asyncio.to_thread(ctx.files.previous_from_snapshot, snapshot)
                compared_with = "nothing" if first else "snapshot"
        else:
            await asyncio.to_thread(ctx.files.previous_from_snapshot, snapshot)
        if self.unit.forgotten is not None:
            # Forgotten people leave the comparison: no step ever names them again, and the
            # next snapshot no longer holds their address or number.
            await asyncio.to_thread(
                self.unit.forgotten.drop_from, ctx.files.previous, self.unit.rows.key_name
            )
        return compared_with

    def _load_audience(self, ctx: RunContext) -> None:
        """Stream the audience from the warehouse into the planning connection, attributes
        as the text sent to Listrak (a batch at a time: no per-row Python, no file)."""
        schema = audience_schema(len(ctx.attributes))

        def batches() -> Iterator[pa.RecordBatch]:
            for batch in self.unit.batches():
                yield as_audience(batch, schema, lambda b: self.destination.normalize(ctx, b))
                self.reporter.audience_rows(self.target, batch.num_rows)

        ctx.files.load_audience(batches())

    async def _write_remote(self, ctx: RunContext) -> bool:
        source = await self.destination.remote(ctx)
        if source is None:
            return False
        schema = remote_schema(len(ctx.attributes))
        target = ctx.files.remote
        staged = private_file(target.with_name(target.name + ".staged"))
        with pq.ParquetWriter(staged, schema, compression="snappy") as writer:
            async for batch in source:
                if "owned" not in batch.schema.names:  # a destination keeping no ownership
                    batch = batch.append_column("owned", pa.nulls(batch.num_rows, pa.bool_()))
                writer.write_batch(batch.select(schema.names).cast(schema))
        os.replace(staged, target)
        return True

    async def _plan_only(self, client: ListrakClient, workdir: Path) -> UnitOutcome:
        ctx = self._context(client, "plan", workdir, resumed=False)
        summary, compared_with = await self._plan(ctx)
        outcome = self._outcome(
            "planned",
            plan=summary,
            compared_with=compared_with,
            audience=self.unit.report.as_dict(),
            sample=await asyncio.to_thread(ctx.files.summary_sample),
            target_info=ctx.target.journal(),
        )
        message = self._guard_message(summary)
        if message:
            outcome.warnings.append(message)
        return outcome

    def _guard_message(self, plan: PlanSummary | None) -> str | None:
        """Why the removal guard stops this plan, or None."""
        if plan is None or plan.removals == 0:
            return None
        share = float(getattr(self.destination.config, "removal_guard", 0.2))
        if plan.removals <= share * plan.members:
            return None
        pct = 100.0 * plan.removals / plan.members if plan.members else 100.0
        return (
            f"removal guard: this run would turn off or unsubscribe {plan.removals:,} of "
            f"{plan.members:,} current members ({pct:.1f}%, more than removal_guard "
            f"{share:.0%}). If the audience really shrank, run again with "
            "--allow-large-removal; if not, check the segment's query and data."
        )

    # --- a fresh run -------------------------------------------------------------------------

    async def _fresh(self, client: ListrakClient) -> UnitOutcome:
        config = self.destination.config
        run = self.store.start_run(
            "sync",
            self.target,
            {
                "campaign": self.unit.rows.campaign.name,
                "destination": self.unit.destination,
                "group": self.unit.group,
                "type": self.destination.kind,
                "mode": getattr(config, "mode", None),
                "full": self.options.full,
                "phase": "preparing",
            },
        )
        self._held_by(run.run_id)
        workdir = self.workspace.run_dir(run.run_id)
        ctx = self._context(client, run.run_id, workdir, resumed=False)
        try:
            self.store.update_run(run.run_id, details={"phase": "preparing"})
            summary, compared_with = await self._plan(ctx)
            self.store.update_run(
                run.run_id,
                details={
                    "listrak": ctx.target.journal(),
                    "compared_with": compared_with,
                    "planned_against": self._planned_against,
                },
            )
            await asyncio.to_thread(self._record_rejections, run.run_id)
            audience = self.unit.report.as_dict()
            counts = {
                **summary.counts,
                "rejected": self.unit.report.total() - self.unit.report.total("ok"),
            }
            message = self._guard_message(summary)
            if message and not self.options.allow_large_removal:
                # A few of the members it would remove (lowest keys), for whoever approves it.
                planned = await asyncio.to_thread(ctx.files.summary_sample, 3)
                leaving = [row for row in planned if row.get("change") == "leave"]
                finished = self.store.finish_run(
                    run.run_id,
                    "refused",
                    counts,
                    details={
                        "plan": summary.as_dict(),
                        "audience": audience,
                        "guard": message,
                        "phase": "refused",
                    },
                    error=message,
                )
                self._forget_work(run.run_id)
                return self._outcome(
                    "refused",
                    run=finished,
                    plan=summary,
                    compared_with=compared_with,
                    audience=audience,
                    sample=leaving,
                    target_info=ctx.target.journal(),
                    error=message,
                )
            if self.shared is not None:
                for path in (ctx.files.plan, ctx.files.previous):
                    self.shared.save_run_file(run.run_id, path.name, path)
            for step in summary.steps:
                self.store.plan_step(
                    run.run_id, step.step_id, step.kind, {"rows": step.rows, "kind": step.kind}
                )
            self.store.update_run(
                run.run_id,
                details={
                    "timings": dict(ctx.timings),
                    "cpu_seconds": dict(ctx.cpu),
                    "peak_rss_mb": dict(ctx.peak_rss_mb),
                    "phase": "planned",
                    "plan": summary.as_dict(),
                    "audience": audience,
                    "counts_planned": counts,
                },
            )
            hooks.checkpoint("planned")
            return await self._apply_and_commit(ctx, summary, compared_with)
        except BaseException as exc:
            return self._failed(run.run_id, exc, summary=None)

    def _record_rejections(self, run_id: str) -> None:
        """Every audience row that cannot be delivered (no/invalid key, duplicate, no consent)
        becomes a row outcome naming the customer, the field and the reason."""
        if self.unit.report.total() == self.unit.report.total("ok"):
            return
        rows = self.unit.rows
        key = rows.campaign.config.warehouse.customer_key
        sql = (
            f'SELECT "{key}" AS customer_key, _key_raw, _status, _reason '
            f"FROM ({rows.sql(self.unit.group)}) AS u WHERE _status <> 'ok'"
        )
        outcomes: list[RowOutcome] = []
        for batch in rows.campaign.warehouse.stream(sql):
            for item in batch.to_pylist():
                raw = item["_key_raw"]
                reason = str(item["_reason"] or item["_status"])
                if raw not in (None, ""):
                    reason = f"{reason} (value {raw!r})"
                outcomes.append(
                    RowOutcome(
                        key=f"{key}={item['customer_key']}",
                        outcome=str(item["_status"]),
                        field=rows.key_column,
                        reason=reason,
                    )
                )
        self.store.record_outcomes(run_id, outcomes, step_id="audience")

    # --- resume --------------------------------------------------------------------------------

    async def _resume(self, client: ListrakClient, run: Run) -> UnitOutcome:
        workdir = self.workspace.run_dir(run.run_id)
        if self.shared is not None:
            # The warehouse's copy is the run's: this folder may be stale (a later attempt
            # ran elsewhere) or missing (another working directory).
            shutil.rmtree(workdir, ignore_errors=True)
            private_folder(workdir)
            self.shared.restore_run_files(run.run_id, workdir)
        ctx = self._context(client, run.run_id, workdir, resumed=True)
        if not ctx.files.plan.exists():
            finished = self.store.finish_run(
                run.run_id,
                "interrupted",
                run.counts,
                error="its plan file is gone; it cannot be finished",
                details={"resumable": False},
            )
            return self._outcome("failed", run=finished, error=finished.error)
        self._held_by(run.run_id)
        self.store.reopen_run(run.run_id)
        self.store.update_run(
            run.run_id, details={"resumes": int(run.details.get("resumes", 0)) + 1}
        )
        summary = _summary_from(run.details.get("plan") or {})
        try:
            await self._reload_target(ctx, run)
            return await self._apply_and_commit(
                ctx, summary, str(run.details.get("compared_with", "snapshot"))
            )
        except BaseException as exc:
            return self._failed(run.run_id, exc, summary=summary)

    async def _reload_target(self, ctx: RunContext, run: Run) -> None:
        """The target the run was planned against, as it journaled it (every run journals it
        before it can be resumed; should it be missing, the destination is prepared again)."""
        journaled = run.details.get("listrak")
        if journaled:
            ctx.prepared = self.destination.load_target(journaled)
            await self.destination.reopen(ctx)
        else:
            ctx.prepared = await self.destination.prepare(ctx)

    # --- apply and commit ------------------------------------------------------------------

    async def _apply_and_commit(
        self, ctx: RunContext, summary: PlanSummary, compared_with: str
    ) -> UnitOutcome:
        run_id = ctx.run_id
        self.store.update_run(run_id, details={"phase": "applying"})
        pending = [s for s in self.store.steps(run_id) if s.status != "done"]
        limit = asyncio.Semaphore(max(1, self.options.step_concurrency))

        async def one(step: Step) -> None:
            async with limit:
                hooks.checkpoint(f"before_step:{step.step_id}")
                result = await self.destination.apply(ctx, step)
                # Files and outcome rows are built off the loop; the journal write stays on it,
                # so two finishing steps never open transactions on the store at once.
                document, outcomes = await asyncio.to_thread(self._completion, ctx, step, result)
                saved = ctx.files.results / f"{step.step_id}.parquet"
                if self.shared is not None and saved.exists():
                    self.shared.save_run_file(ctx.run_id, f"results/{saved.name}", saved)
                earlier = self.store.step(ctx.run_id, step.step_id).result or {}
                self.store.complete_step(
                    ctx.run_id, step.step_id, {**earlier, **document}, outcomes
                )
                hooks.checkpoint(f"done:{step.step_id}")
                self.reporter.step_done(self.target, step.step_id, int(step.payload.get("rows", 0)))

        with self._phase(ctx, "apply", "applying"):
            self.reporter.steps(
                self.target, [(s.step_id, int(s.payload.get("rows", 0))) for s in pending]
            )
            async with asyncio.TaskGroup() as group:
                for step in pending:
                    group.create_task(one(step))

        self.store.update_run(run_id, details={"phase": "committing"})
        hooks.checkpoint("before_commit")
        steps = self.store.steps(run_id)
        defaults = {
            s.step_id: (
                (s.result or {}).get("default"),
                (s.result or {}).get("default_result"),
            )
            for s in steps
        }
        with self._phase(ctx, "commit", "committing the snapshot"):
            if self.shared is not None:
                await asyncio.to_thread(
                    self.shared.write_audit,
                    self.unit.destination,
                    self.target,
                    run_id,
                    ctx.files.changes(defaults),
                )
            await asyncio.to_thread(
                self.snapshots.replace,
                self.snapshot_name,
                ctx.files.next_snapshot(defaults, run_id),
                SNAPSHOT_SCHEMA,
            )
            in_cluster: dict[str, Any] = {}
            if self.catalog is not None:
                # The cluster's copy, a table of this run's own: named in the run's record
                # below, it becomes the previous snapshot only when the run finishes.
                in_cluster[RECORD] = await asyncio.to_thread(self._write_to_catalog, ctx, defaults)
        hooks.checkpoint("committed")
        counts, details = self._totals(run_id, steps, summary)
        status = "partial" if counts.get("failed", 0) else "succeeded"
        finished = self.store.finish_run(
            run_id,
            "partial" if status == "partial" else "succeeded",
            counts,
            details={
                **details,
                **in_cluster,
                "phase": "finished",
                "timings": self._summed(ctx, "timings", ctx.timings),
                "cpu_seconds": self._summed(ctx, "cpu_seconds", ctx.cpu),
                "peak_rss_mb": dict(ctx.peak_rss_mb),
            },
        )
        if self.catalog is not None:
            await asyncio.to_thread(self._clean_catalog, in_cluster[RECORD]["table"])
        if self.shared is not None:
            self.shared.drop_run_files(run_id)
        if not self.options.keep_work:
            self.workspace.remove_run_dir(run_id)
        run = self.store.run(run_id)
        outcome = self._outcome(
            status,
            run=finished,
            plan=summary,
            compared_with=compared_with,
            audience=run.details.get("audience", {}),
            target_info=ctx.target.journal(),
        )
        declined = self._declined_warning(run_id)
        if declined:
            outcome.warnings.append(declined)
        return outcome

    def _write_to_catalog(
        self, ctx: RunContext, defaults: dict[str, tuple[str | None, str | None]]
    ) -> dict[str, Any]:
        """This run's snapshot as a table of the cluster. Planned against the cluster's
        previous table (still there): the planned keys' rows are uploaded and the others
        carried over from that table in the cluster; otherwise the whole committed snapshot is
        uploaded."""
        assert self.catalog is not None
        against = self.store.run(ctx.run_id).details.get("planned_against")
        if isinstance(against, str) and self.catalog.warehouse.exists(against):
            forgotten, kind = self.unit.forgotten, self.unit.rows.key_name
            return self.catalog.write_carried(
                ctx.run_id,
                against,
                ctx.files.next_snapshot(defaults, ctx.run_id, unplanned=False),
                ctx.files.planned_keys(),
                lambda frame: without_forgotten(frame, forgotten, kind),
            )
        committed = self.snapshots.local(self.snapshot_name, ctx.workdir)
        assert committed is not None
        return self.catalog.write(ctx.run_id, committed)

    def _clean_catalog(self, keep: str) -> None:
        """Drop the cluster's older snapshot tables; the run is committed whatever happens here
        (the next commit tries again)."""
        assert self.catalog is not None
        try:
            self.catalog.clean(keep)
        except Exception as exc:
            logging.getLogger(__name__).warning("old snapshot tables were not dropped: %s", exc)

    def _summed(self, ctx: RunContext, name: str, mine: dict[str, float]) -> dict[str, float]:
        """Seconds per phase; a resumed run adds its own to those of the killed process."""
        if not ctx.resumed:
            return dict(mine)
        before = self.store.run(ctx.run_id).details.get(name) or {}
        return {k: round(float(before.get(k, 0.0)) + v, 3) for k, v in mine.items()} | {
            k: float(v) for k, v in before.items() if k not in mine
        }

    def _completion(
        self, ctx: RunContext, step: Step, result: StepResult
    ) -> tuple[dict[str, Any], list[RowOutcome]]:
        """Save a step's per-row results; its journal result and row outcomes."""
        rows_total = int(step.payload.get("rows", 0))
        listed = result.rows if result.rows is not None else None
        effects: Counter[str] = Counter()
        results: Counter[str] = Counter()
        outcomes: list[RowOutcome] = []
        listed_count = 0
        if listed is not None and listed.num_rows:
            ctx.files.save_results(step.step_id, listed)
            listed_count = listed.num_rows
            grouped = listed.group_by(["effect", "result"]).aggregate([([], "count_all")])
            for effect, word, count in zip(
                grouped.column("effect").to_pylist(),
                grouped.column("result").to_pylist(),
                grouped.column("count_all").to_pylist(),
                strict=True,
            ):
                effects[str(effect)] += int(count)
                results[str(word)] += int(count)
            problems = listed.filter(pc.is_in(listed.column("effect"), pa.array(_PROBLEM_EFFECTS)))
            columns = ["key", "result", "reason"]
            if "field" in problems.column_names:
                columns.append("field")
            for item in problems.select(columns).to_pylist():
                outcomes.append(self._row_outcome(str(item["key"]), str(item["result"]), item))
        rest = rows_total - listed_count
        if rest > 0 and result.default is not None:
            effects[result.default.value] += rest
            results[str(result.default_result)] += rest
            if result.default.value in _PROBLEM_EFFECTS:
                keys = ctx.files.step_rows(step.step_id).column("key")
                if listed is not None and listed.num_rows:
                    keys = pc.filter(keys, pc.invert(pc.is_in(keys, listed.column("key"))))
                word = str(result.default_result)
                outcomes.extend(self._row_outcome(str(k), word, {}) for k in keys.to_pylist())
        document = {
            "summary": result.summary,
            "default": result.default.value if result.default else None,
            "default_result": result.default_result,
            "effects": dict(effects),
            "results": dict(results),
        }
        return document, outcomes

    def _row_outcome(self, key: str, word: str, item: dict[str, Any]) -> RowOutcome:
        """A refused row as recorded: our name for the refusal, its reason, and the field it
        is about (the key's own field for an address Listrak refuses)."""
        refusal = classify(word, item.get("reason"))
        field = item.get("field")
        if field is None and refusal.about_address:
            field = ADDRESS[self.destination.integration]
        return RowOutcome(key=key, outcome=refusal.outcome, field=field, reason=refusal.reason)

    def _declined_warning(self, run_id: str) -> str | None:
        """Rows refused for good in this run, by refusal and field, as one warning line."""
        found = [
            (outcome, field, count)
            for outcome, field, count in self.store.outcome_breakdown(run_id)
            if outcome in PERMANENT_OUTCOMES
        ]
        if not found:
            return None
        total = sum(count for _, _, count in found)
        parts = ", ".join(
            f"{outcome} ({field}) {count:,}" if field else f"{outcome} {count:,}"
            for outcome, field, count in found
        )
        return (
            f"{total:,} row(s) declined by Listrak for good ({parts}); they are not sent again "
            f"until their data changes. Details: `listrak-sync runs {run_id}`"
        )

    def _totals(
        self, run_id: str, steps: list[Step], summary: PlanSummary
    ) -> tuple[dict[str, int], dict[str, Any]]:
        run = self.store.run(run_id)
        counts: dict[str, int] = dict(run.details.get("counts_planned") or summary.counts)
        effects: Counter[str] = Counter()
        results: Counter[str] = Counter()
        step_summaries = []
        for step in steps:
            result = step.result or {}
            effects.update({k: int(v) for k, v in (result.get("effects") or {}).items()})
            results.update({k: int(v) for k, v in (result.get("results") or {}).items()})
            step_summaries.append(
                {
                    "step_id": step.step_id,
                    "kind": step.kind,
                    "rows": step.payload.get("rows"),
                    "external_id": step.external_id,
                    **(result.get("summary") or {}),
                }
            )
        for effect in Effect:
            counts[effect.value] = effects.get(effect.value, 0)
        return counts, {"results": dict(results), "steps": step_summaries}

    def _failed(self, run_id: str, exc: BaseException, summary: PlanSummary | None) -> UnitOutcome:
        run = self.store.run(run_id)
        phase = run.details.get("phase")
        interrupted = isinstance(exc, asyncio.CancelledError | KeyboardInterrupt)
        message = _describe(exc)
        counts = run.counts
        if phase in _RESUMABLE_PHASES:
            counts = self._accepted(run_id, exc, summary)
        finished = self.store.finish_run(
            run_id,
            "interrupted" if interrupted else "failed",
            counts,
            error=message,
            details={"resumable": phase in _RESUMABLE_PHASES},
        )
        if phase not in _RESUMABLE_PHASES:
            self._forget_work(run_id)
        if interrupted or not isinstance(exc, Exception):
            raise exc
        return self._outcome("failed", run=finished, plan=summary, error=message)

    def _accepted(
        self, run_id: str, exc: BaseException, summary: PlanSummary | None
    ) -> dict[str, int]:
        """A stopped run's counts: what its finished steps did, plus the calls of the step it
        stopped in that Listrak answered (not "added 0" after a hundred contacts were added)."""
        run = self.store.run(run_id)
        steps = [s for s in self.store.steps(run_id) if s.status == "done"]
        plan = summary or _summary_from(run.details.get("plan") or {})
        counts, _ = self._totals(run_id, steps, plan)
        for outcome in _finished_calls(exc):
            effect = getattr(outcome, "effect", None)
            if isinstance(effect, str):
                counts[effect] = counts.get(effect, 0) + 1
        return counts


def _finished_calls(exc: BaseException) -> list[object]:
    """Outcomes of the calls done by the steps that stopped part-way (steps run in a task
    group, so a stop arrives wrapped in an exception group)."""
    if isinstance(exc, BaseExceptionGroup):
        return [found for inner in exc.exceptions for found in _finished_calls(inner)]
    return exc.finished if isinstance(exc, StepStopped) else []


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(e) for e in exc.exceptions)
    if isinstance(exc, ListrakError | SyncError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _summary_from(doc: dict[str, Any]) -> PlanSummary:
    return PlanSummary(
        counts={str(k): int(v) for k, v in (doc.get("counts") or {}).items()},
        steps=[
            PlannedStep(str(s["step_id"]), str(s["kind"]), int(s["rows"]))
            for s in doc.get("steps") or []
        ],
        removals=int(doc.get("removals", 0)),
        members=int(doc.get("members", 0)),
        by_kind={str(k): int(v) for k, v in (doc.get("by_kind") or {}).items()},
    )
