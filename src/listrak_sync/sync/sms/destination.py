"""``listrak_sms``: keep one Listrak SMS list's membership equal to an audience.

The engine diffs the audience against the last snapshot (or, on a first run or ``--full``,
against the list's members, read by :meth:`SmsSync.remote`) and hands the planned rows over in
three kinds of steps, in the seed connector's order:

1. ``update`` — members whose attributes changed: one Contact Update Import per step (bulk;
   opt status untouched);
2. ``unsubscribe`` — members who left the audience: one unsubscribe call each;
3. ``add`` — new members: one subscribe (known on the sender code) or create-and-subscribe
   call each, concurrently, then one import for the attributes of the existing contacts that
   were subscribed.

Consent comes first: the audience is filtered through the SMS opt status table before it gets
here (``require_consent``), and numbers Listrak has opted out are reported and never sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ...audiences.campaigns import AudienceUnit
from ...config.destinations import SmsDestination
from ...listrak import NotFound, SmsContactField
from ...state import Step
from ..context import RunContext
from ..destination import Effect, StepGroup, StepResult, SyncDestination
from .contacts import (
    Addition,
    Outcome,
    StopSync,
    add_contact,
    remove_contact,
    run_concurrently,
)
from .fields import FieldMatch, check_values, match_fields
from .imports import import_attributes
from .listrak_state import read_known, read_members
from .target import SmsTarget

__all__ = ["SmsSync"]

# Per-contact steps stay small: a step killed halfway is repeated whole (every call in it is
# safe to repeat), so its size bounds the repeated requests, not the speed.
CONTACT_STEP_ROWS = 2_000
KNOWN_FILE = "sms_known.parquet"
OUTCOME_SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("effect", pa.string()),
        ("result", pa.string()),
        ("reason", pa.string()),
        ("state", pa.string()),
        ("needs_attributes", pa.bool_()),
        ("exists", pa.bool_()),
        ("field", pa.string()),
    ]
)


class SmsSync(SyncDestination[SmsDestination, SmsTarget]):
    kind = "listrak_sms"
    integration = "sms"
    target_model = SmsTarget

    def __init__(self, name: str, config: SmsDestination, unit: AudienceUnit) -> None:
        super().__init__(name, config, unit)
        self.invalid_values: Counter[str] = Counter()

    # --- what the plan says --------------------------------------------------------------

    def lock_resources(self) -> list[str]:
        # One run per SMS list, whichever campaign or project points at it.
        return [f"listrak_sms:{self.config.sender_code_id}:{self.config.list_id}"]

    def warnings(self) -> list[str]:
        notes: list[str] = []
        if not self.config.require_consent:
            notes.append(
                "CONSENT FILTER OFF (require_consent: false): audience members are subscribed "
                "to the SMS list WITHOUT checking the SMS opt status table. Numbers Listrak "
                "has opted out are still never subscribed."
            )
        for field, count in sorted(self.invalid_values.items()):
            notes.append(
                f"{count} row(s) have a value SMS profile field {field!r} would refuse; "
                "they are reported and skipped"
            )
        return notes

    # --- resolving the list --------------------------------------------------------------

    async def prepare(self, ctx: RunContext[SmsTarget]) -> SmsTarget:
        """Check the sender code and list, match attributes to profile fields, and read which
        numbers exist on the sender code or opted out (kept in the run's work folder)."""
        sms = ctx.client.sms
        config = self.config
        try:
            sender = await sms.get_sender_code(config.sender_code_id)
        except NotFound:
            raise StopSync(
                f"SMS sender code {config.sender_code_id} does not exist for this integration"
            ) from None
        try:
            phone_list = await sms.get_phone_list(config.sender_code_id, config.list_id)
        except NotFound:
            raise StopSync(
                f"SMS list {config.list_id} does not exist on sender code {config.sender_code_id}"
            ) from None
        if (phone_list.status or "Active").lower() != "active":
            raise StopSync(
                f"SMS list {config.list_id} ({phone_list.phone_list_name}) is "
                f"{phone_list.status}; activate it in Listrak first"
            )
        names = [a.name for a in self.unit.rows.attributes]
        matches: list[FieldMatch] = []
        if names:
            fields = await sms.profile_fields(config.sender_code_id)
            matches, issues = match_fields(names, fields, match_custom=config.match_custom_fields)
            if issues:
                raise StopSync(
                    f"destination {self.name!r}: the attributes do not fit the SMS profile "
                    f"fields of sender code {config.sender_code_id}:\n"
                    + "\n".join(f"  - {issue}" for issue in issues)
                )
        known = await self._write_known(ctx, config.sender_code_id, config.list_id)
        return SmsTarget(
            sender_code_id=sender.short_code_id,
            sender_code=sender.code,
            list_id=phone_list.phone_list_id,
            list_name=phone_list.phone_list_name,
            pending_on_subscribe=bool(
                phone_list.require_double_opt_in or phone_list.require_age_gate
            ),
            fields=matches,
            opted_out=int(pc.sum(known.column("opted_out")).as_py() or 0),
        )

    async def reopen(self, ctx: RunContext[SmsTarget]) -> None:
        """Which numbers exist on the sender code or opted out, read again: the additions
        left to do are decided by what Listrak holds now."""
        await self._write_known(ctx, ctx.target.sender_code_id, ctx.target.list_id)

    async def _write_known(
        self, ctx: RunContext[SmsTarget], sender_code_id: int, list_id: int
    ) -> pa.Table:
        known = await read_known(ctx.client.sms, sender_code_id, list_id)
        pq.write_table(known, ctx.workdir / KNOWN_FILE)
        return known

    def normalize(self, ctx: RunContext[SmsTarget], batch: pa.RecordBatch) -> pa.RecordBatch:
        """Attributes as the text their profile field stores (Checkbox ``true``/``false``,
        Date ``YYYY-MM-DD``); a value the field would refuse is kept as it is, counted here,
        and refused per row when its step runs."""
        matches = ctx.target.fields
        if not matches:
            return batch
        columns = list(batch.columns)
        for index, match in enumerate(matches):
            position = batch.schema.get_field_index(f"attr_{index}")
            checked = check_values(batch.column(position), match)
            refused = int(pc.sum(pc.is_valid(checked.problem)).as_py() or 0)
            if refused:
                self.invalid_values[match.field_name] += refused
            columns[position] = checked.text
        return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)

    async def remote(self, ctx: RunContext[SmsTarget]) -> AsyncIterator[pa.RecordBatch] | None:
        return self._members(ctx)

    async def _members(self, ctx: RunContext[SmsTarget]) -> AsyncIterator[pa.RecordBatch]:
        """The list's members; their attribute values are not compared (``known`` false), so
        a first run or ``--full`` rewrites every member's attributes in one bulk import."""
        members = await read_members(ctx.client.sms, ctx.target.sender_code_id, ctx.target.list_id)
        keys = members.column("phone")
        size = len(keys)
        arrays: list[pa.Array | pa.ChunkedArray] = [
            keys,
            pa.array([True] * size, pa.bool_()),
            pa.array([False] * size, pa.bool_()),
        ]
        names = ["key", "member", "known"]
        for index in range(len(self.unit.rows.attributes)):
            arrays.append(pa.nulls(size, pa.string()))
            names.append(f"attr_{index}")
        for batch in pa.Table.from_arrays(arrays, names=names).to_batches(50_000):
            yield batch

    # --- steps ---------------------------------------------------------------------------

    def step_groups(self, ctx: RunContext[SmsTarget]) -> list[StepGroup]:
        return [
            # Attribute changes of current members: bulk, one import per step.
            StepGroup("update", "change = 'change' AND prev_member AND NOT prev_declined"),
            StepGroup("unsubscribe", "change = 'leave'", max_rows=CONTACT_STEP_ROWS, removes=True),
            # New members, and changed rows that are not members (declined or failed before).
            StepGroup("add", "change IN ('enter', 'change')", max_rows=CONTACT_STEP_ROWS),
        ]

    async def apply(self, ctx: RunContext[SmsTarget], step: Step) -> StepResult:
        rows = await ctx.rows(step)
        if step.kind == "unsubscribe":
            return await self._unsubscribe(ctx, step, rows)
        invalid, rows = self._refused_values(ctx, rows)
        if step.kind == "update":
            return await self._update(ctx, step, rows, invalid)
        if step.kind == "add":
            return await self._add(ctx, step, rows, invalid)
        raise ValueError(f"unknown SMS step kind {step.kind!r}")

    def _refused_values(
        self, ctx: RunContext[SmsTarget], rows: pa.Table
    ) -> tuple[list[Outcome], pa.Table]:
        """Split off rows with a value their field would refuse (re-checked from the planned
        text, so a resumed run decides the same way)."""
        matches = ctx.target.fields
        if not matches or rows.num_rows == 0:
            return [], rows
        problem = pa.nulls(rows.num_rows, pa.string())
        field = pa.nulls(rows.num_rows, pa.string())
        for index, match in enumerate(matches):
            checked = check_values(rows.column(f"attr_{index}"), match)
            first = pc.and_(pc.is_null(problem), pc.is_valid(checked.problem))
            field = pc.if_else(first, pa.scalar(match.field_name, pa.string()), field)
            problem = pc.coalesce(problem, checked.problem)
        bad = pc.is_valid(problem)
        # A value its field refuses is refused for good: declined, not sent again until the
        # row's data changes (refusals.py).
        refused = [
            Outcome(key, "declined", "invalid_value", reason, field=name)
            for key, reason, name in zip(
                rows.filter(bad).column("key").to_pylist(),
                problem.filter(bad).to_pylist(),
                field.filter(bad).to_pylist(),
                strict=True,
            )
        ]
        return refused, rows.filter(pc.invert(bad))

    async def _update(
        self, ctx: RunContext[SmsTarget], step: Step, rows: pa.Table, invalid: list[Outcome]
    ) -> StepResult:
        summary: dict[str, Any] = {"rows": rows.num_rows, "invalid_value": len(invalid)}
        if rows.num_rows:
            result = await import_attributes(ctx, step, rows)
            summary.update(result)
        return StepResult(
            summary,
            rows=_outcome_table(invalid),
            default=Effect.APPLIED,
            default_result="updated",
        )

    async def _unsubscribe(
        self, ctx: RunContext[SmsTarget], step: Step, rows: pa.Table
    ) -> StepResult:
        sms = ctx.client.sms
        target = ctx.target
        phones = rows.column("key").to_pylist()

        async def leave(phone: str) -> Outcome:
            return await remove_contact(sms, target, phone)

        outcomes = await run_concurrently(
            phones, leave, concurrency=ctx.client.settings.max_concurrency
        )
        return StepResult(_summary(outcomes), rows=_outcome_table(outcomes))

    async def _add(
        self, ctx: RunContext[SmsTarget], step: Step, rows: pa.Table, invalid: list[Outcome]
    ) -> StepResult:
        saved = ctx.workdir / f"{step.step_id}.outcomes.parquet"
        if saved.exists():
            # The calls of this step were made before a kill; only the import may be left.
            outcomes = _read_outcomes(saved)
        else:
            outcomes = await self._add_contacts(ctx, step.step_id, rows)
            _write_outcomes(saved, outcomes)
        summary = _summary(outcomes)
        summary["invalid_value"] = len(invalid)
        attribute_keys = pa.array([o.key for o in outcomes if o.needs_attributes], pa.string())
        if len(attribute_keys) and ctx.target.fields:
            existing = rows.filter(pc.is_in(rows.column("key"), value_set=attribute_keys))
            summary.update(await import_attributes(ctx, step, existing))
        return StepResult(summary, rows=_outcome_table([*invalid, *outcomes]))

    async def _add_contacts(
        self, ctx: RunContext[SmsTarget], step_id: str, rows: pa.Table
    ) -> list[Outcome]:
        """One call per new member; opted-out numbers are reported without a call."""
        known = pq.read_table(ctx.workdir / KNOWN_FILE)
        opted = dict(
            zip(
                known.filter(known.column("opted_out")).column("phone").to_pylist(),
                known.filter(known.column("opted_out")).column("reason").to_pylist(),
                strict=True,
            )
        )
        exists = set(known.column("phone").to_pylist())
        matches = ctx.target.fields
        keys = rows.column("key").to_pylist()
        prev_states = (
            rows.column("prev_state").to_pylist()
            if "prev_state" in rows.column_names
            else [None] * len(keys)
        )
        values = [rows.column(f"attr_{i}").to_pylist() for i in range(len(matches))]
        outcomes: list[Outcome] = []
        additions: list[Addition] = []
        for row, key in enumerate(keys):
            if key in opted:
                reason = opted[key]
                outcomes.append(
                    Outcome(
                        key,
                        "declined",
                        "opted_out",
                        f"opted out of the sender code ({reason or 'no reason given'})",
                    )
                )
                continue
            fields = tuple(
                SmsContactField(segmentation_field_id=m.field_id, value=values[i][row])
                for i, m in enumerate(matches)
                if values[i][row] is not None
            )
            additions.append(
                Addition(key, exists=key in exists or prev_states[row] == "exists", values=fields)
            )
        sms = ctx.client.sms
        target = ctx.target

        async def add(addition: Addition) -> Outcome:
            return await add_contact(sms, target, addition)

        done = 0

        def count(finished: int) -> None:
            # A named point halfway through the calls, where resume tests kill the process.
            nonlocal done
            done += finished
            if done == len(additions) // 2:
                ctx.checkpoint(f"halfway:{step_id}")

        outcomes += await run_concurrently(
            additions, add, concurrency=ctx.client.settings.max_concurrency, on_done=count
        )
        return outcomes


def _summary(outcomes: list[Outcome]) -> dict[str, Any]:
    counts = Counter(o.result for o in outcomes)
    return {"rows": len(outcomes), **dict(sorted(counts.items()))}


def _outcome_table(outcomes: list[Outcome]) -> pa.Table:
    return pa.table(
        {
            "key": pa.array([o.key for o in outcomes], pa.string()),
            "effect": pa.array([o.effect for o in outcomes], pa.string()),
            "result": pa.array([o.result for o in outcomes], pa.string()),
            "reason": pa.array([o.reason for o in outcomes], pa.string()),
            # ``exists``: on the sender code, so the next addition subscribes without a create.
            "state": pa.array(["exists" if o.exists else None for o in outcomes], pa.string()),
            "field": pa.array([o.field for o in outcomes], pa.string()),
        }
    )


def _write_outcomes(path: Path, outcomes: list[Outcome]) -> None:
    table = pa.table(
        {
            "key": [o.key for o in outcomes],
            "effect": [o.effect for o in outcomes],
            "result": [o.result for o in outcomes],
            "reason": [o.reason for o in outcomes],
            "state": [None] * len(outcomes),
            "needs_attributes": [o.needs_attributes for o in outcomes],
            "exists": [o.exists for o in outcomes],
            "field": [o.field for o in outcomes],
        },
        schema=OUTCOME_SCHEMA,
    )
    temporary = path.with_name(path.name + ".tmp")
    pq.write_table(table, temporary)
    temporary.replace(path)


def _read_outcomes(path: Path) -> list[Outcome]:
    return [
        Outcome(
            r["key"],
            r["effect"],
            r["result"],
            r["reason"],
            r["needs_attributes"],
            r["exists"],
            r.get("field"),
        )
        for r in pq.read_table(path).to_pylist()
    ]
