"""``listrak_email``: keep a Listrak email list in step with an audience.

Each step is one list import (at most 250,000 rows) or, when that is quicker (``paths.py``:
a small change set), one or two concurrent calls per contact (``contacts.py``), with the same
end states. Steps:

- ``add`` — entering members: ``AddSubscribersAndSegmentationData``, the audience CheckBox
  field ``on`` and the attributes; ``segmentationImportType: Update`` (an empty value never
  wipes what someone else wrote on a contact new to this audience).
- ``update`` — members whose attributes changed: ``UpdateSubscribers``, field ``on``,
  ``Overwrite`` (an attribute emptied in the warehouse is emptied in Listrak).
- ``remove`` — ``mode: mirror`` only: leaving members this destination added:
  ``RemoveSubscribers``.
- ``flag_off`` — other leaving members (``flag`` and ``mirror``): ``UpdateSubscribers`` with the
  field ``off``; they stay subscribed. ``mode: add`` leaves them alone.
- ``own`` — ``mode: mirror``, the run that creates the owner field only: members the snapshot
  says this destination added, updated as ``update`` does with the owner field ``on`` (see
  ``ownership.py``: who was added is kept in Listrak, so it survives losing the snapshot).

Neither path re-subscribes an unsubscribed contact (Listrak answers PreviouslyUnsubscribed to an
import row, ERROR_UNSUBSCRIBED_EMAIL_ADDRESS to a contact call).
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import ClassVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ...audiences.campaigns import AudienceUnit
from ...config.destinations import EmailDestination
from ...listrak import ImportFailed, ImportFile, ImportFileMapping
from ...state import Step
from ..context import RunContext
from ..destination import Effect, StepGroup, StepResult, SyncDestination, effect_rows
from .contacts import apply_per_contact
from .fields import refused_field, resolve_fields, resolve_list
from .ownership import ListFieldOwnership, owner_field_name
from .paths import Observed, choose, observed
from .results import effect_of, uniform_result
from .target import EmailTarget, known_id

__all__ = ["EmailSync"]

_IMPORT_TYPES = {
    "add": ("AddSubscribersAndSegmentationData", "Update"),
    "update": ("UpdateSubscribers", "Overwrite"),
    "flag_off": ("UpdateSubscribers", "Update"),
    "remove": ("RemoveSubscribers", "Update"),
    "own": ("UpdateSubscribers", "Overwrite"),
}
# At most this many profile fields per Contact request (the segment field is one of them).
_MAX_READ_FIELDS = 30


class EmailSync(SyncDestination[EmailDestination, EmailTarget]):
    kind: ClassVar[str] = "listrak_email"
    integration: ClassVar[str] = "email"
    target_model = EmailTarget
    rows_per_import: ClassVar[int] = 250_000

    def __init__(self, name: str, config: EmailDestination, unit: AudienceUnit) -> None:
        super().__init__(name, config, unit)
        self._notes: list[str] = []
        self._observed: Observed | None = None

    def warnings(self) -> list[str]:
        return list(self._notes)

    @property
    def segment_field(self) -> str:
        return self.config.segment_field or self.unit.audience_name

    # --- prepare ---------------------------------------------------------------------------

    async def prepare(self, ctx: RunContext[EmailTarget]) -> EmailTarget:
        email = ctx.client.email
        list_id, list_name = await resolve_list(email, self.config.list)
        types = await asyncio.to_thread(self._column_types)
        fields = await resolve_fields(
            email,
            list_id,
            group_name=self.config.field_group,
            segment_field=self.segment_field,
            attributes=ctx.attributes,
            column_types=types,
            create_missing=self.config.create_missing_fields,
            dry_run=ctx.dry_run,
            owner_field=(
                owner_field_name(self.segment_field) if self.config.mode == "mirror" else None
            ),
        )
        return EmailTarget(list_name=list_name, mode=self.config.mode, **dict(fields))

    def _column_types(self) -> dict[str, pa.DataType]:
        schema = self.unit.sample(limit=0).schema
        return {name: schema.field(name).type for name in schema.names}

    # --- audience text ---------------------------------------------------------------------

    def normalize(self, ctx: RunContext[EmailTarget], batch: pa.RecordBatch) -> pa.RecordBatch:
        """Attribute values as Listrak stores them: dates ``YYYY-MM-DD``, CheckBox ``on``/``off``,
        numbers and text as text. The same text is hashed, sent, and read back on ``--full``."""
        columns = list(batch.columns)
        for index, spec in enumerate(ctx.target.fields):
            position = 3 + index
            columns[position] = _as_text(columns[position], spec.data_type)
        return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)

    # --- what Listrak holds ----------------------------------------------------------------

    async def remote(self, ctx: RunContext[EmailTarget]) -> AsyncIterator[pa.RecordBatch] | None:
        target = ctx.target
        segment_id = target.segment_field_id
        if segment_id is None or target.segment_field_created:
            # The audience field is new: nobody on the list has it on, so every member enters
            # (the import results tell who was already on the list).
            return None
        field_ids = [f.field_id for f in target.fields if f.field_id is not None]
        known = len(field_ids) == len(target.fields) and len(field_ids) < _MAX_READ_FIELDS - 1
        # A new owner field holds nothing yet: ownership is then the snapshot's alone.
        owner_id = None if target.owner_field_created else target.owner_field_id
        if self.config.mode == "mirror" and owner_id is None and not ctx.has_snapshot:
            self._notes.append(
                f"ownership unknown: mode mirror unsubscribes only members this destination "
                f"added, and neither Listrak (profile field {target.owner_field!r} "
                "is new) nor a local snapshot says who they are, so members leaving the "
                "audience are only flagged off this time. Contacts added from now on are "
                "recorded in Listrak."
            )
        wanted = [segment_id, *(field_ids if known else [])]
        if owner_id is not None:
            wanted.append(owner_id)
        return self._read_list(ctx, target.list_id, wanted, known, owner_id)

    async def _read_list(
        self,
        ctx: RunContext[EmailTarget],
        list_id: int,
        wanted: list[int],
        known: bool,
        owner_id: int | None,
    ) -> AsyncIterator[pa.RecordBatch]:
        count = len(ctx.attributes)
        segment_id, attribute_ids = wanted[0], wanted[1 : 1 + (count if known else 0)]
        async for page in ctx.client.email.contact_pages(list_id, segmentation_field_ids=wanted):
            keys: list[str] = []
            members: list[bool] = []
            owned: list[bool | None] = []
            values: list[list[str | None]] = [[] for _ in range(count)]
            for contact in page:
                found = {
                    int(item["segmentationFieldId"]): item.get("value")
                    for item in contact.get("segmentationFieldValues") or []
                }
                keys.append(str(contact["emailAddress"]).strip().lower())
                members.append(str(found.get(segment_id) or "").lower() == "on")
                owned.append(
                    None if owner_id is None else str(found.get(owner_id) or "").lower() == "on"
                )
                for index in range(count):
                    values[index].append(found.get(attribute_ids[index]) if known else None)
            yield pa.RecordBatch.from_arrays(
                [
                    pa.array(keys, pa.string()),
                    pa.array(members, pa.bool_()),
                    pa.array([known] * len(keys), pa.bool_()),
                    *(pa.array(column, pa.string()) for column in values),
                    pa.array(owned, pa.bool_()),
                ],
                names=["key", "member", "known", *(f"attr_{i}" for i in range(count)), "owned"],
            )

    # --- steps -----------------------------------------------------------------------------

    def step_groups(self, ctx: RunContext[EmailTarget]) -> list[StepGroup]:
        size = int(ctx.client.settings.max_import_bytes * 0.9)
        rows = self.rows_per_import
        groups = []
        if self.config.mode == "mirror" and ctx.target.owner_field_created:
            # The owner field is new: record the members the snapshot says this destination
            # added (an update that also sets the owner field), so Listrak knows them too.
            groups.append(
                StepGroup(
                    "own",
                    "change IN ('same', 'change') AND prev_owned AND prev_member"
                    " AND NOT prev_declined",
                    rows,
                    size,
                )
            )
        groups += [
            # A row declined before (banned, a refused value) whose data changed is offered
            # again as an addition: it may never have reached the list.
            StepGroup(
                "add", "change = 'enter' OR (change = 'change' AND prev_declined)", rows, size
            ),
            StepGroup("update", "change = 'change'", rows, size),
        ]
        if self.config.mode == "mirror":
            groups.append(
                StepGroup(
                    "remove",
                    "change = 'leave' AND prev_owned AND NOT prev_declined",
                    rows,
                    size,
                    removes=True,
                )
            )
        if self.config.mode in ("flag", "mirror"):
            groups.append(
                StepGroup(
                    "flag_off", "change = 'leave' AND NOT prev_declined", rows, size, removes=True
                )
            )
        return groups

    async def apply(self, ctx: RunContext[EmailTarget], step: Step) -> StepResult:
        rows = await ctx.rows(step)
        step = self._choose_path(ctx, step, rows.num_rows)
        if (step.result or {}).get("path") == "contacts":
            return await apply_per_contact(ctx, step, rows)
        return await self._apply_import(ctx, step, rows)

    def _choose_path(self, ctx: RunContext[EmailTarget], step: Step, rows: int) -> Step:
        """Journal the step's path before anything is sent; a resumed step keeps its path."""
        if (step.result or {}).get("path") in ("imports", "contacts"):
            return step
        owner = step.kind == "add" and ctx.target.owner_field_id is not None
        if self._observed is None:
            self._observed = observed(ctx)
        choice = choose(step.kind, rows, owner=owner, basis=self._observed)
        forced = self.config.writes != "auto"
        if self.config.writes == "imports" or self.config.writes == "contacts":
            choice = replace(choice, path=self.config.writes)
        return ctx.store.mark_step(
            ctx.run_id,
            step.step_id,
            step.status,
            result={**(step.result or {}), **choice.journal(self._observed, forced)},
        )

    async def _apply_import(
        self, ctx: RunContext[EmailTarget], step: Step, rows: pa.Table
    ) -> StepResult:
        list_id = ctx.target.list_id
        started = time.monotonic()
        mappings, data = await asyncio.to_thread(self._import_file, ctx, step.kind, rows)
        import_type, strategy = _IMPORT_TYPES[step.kind]
        email = ctx.client.email
        attempt = int((step.result or {}).get("attempt", 0))
        while True:
            import_file = ImportFile(
                file_mappings=mappings,
                file_name=ctx.file_name(step, attempt),
                import_type=import_type,
                segmentation_import_type=strategy,
                suppress_email_notifications=self.config.suppress_email_notifications,
                trigger_journey=self.config.trigger_journey,
                include_unsubscribed=False if import_type == "UpdateSubscribers" else None,
            )
            import_id, step = await self._start(ctx, step, list_id, import_file, data, attempt)
            try:
                status = await email.wait_for_import(list_id, import_id)
                break
            except ImportFailed:
                if attempt >= 1:
                    raise
                # Listrak gave up on the file (e.g. it restarted): send it once more, renamed.
                attempt += 1
                step = ctx.store.mark_step(
                    ctx.run_id,
                    step.step_id,
                    "pending",
                    result={**(step.result or {}), "attempt": attempt, "sending": False},
                )
        # The import's turnaround, upload to Completed: what paths.py weighs per-contact
        # calls against on the next runs.
        seconds = round(time.monotonic() - started, 3)
        summary = await email.import_summary(list_id, import_id)
        record = {
            "rows": rows.num_rows,
            "import_seconds": seconds,
            "import_file_id": import_id,
            "file_name": import_file.file_name,
            "import_type": import_type,
            "status": status.status,
            "summary": summary.model_dump(exclude_none=True),
        }
        word = uniform_result(step.kind, summary, rows.num_rows)
        if word is not None:
            result = StepResult(record, default=effect_of(step.kind, word), default_result=word)
            added = rows.column("key").to_pylist() if result.default is Effect.ADDED else []
        else:
            listed = await self._contact_results(ctx, list_id, import_id, step.kind, rows)
            result = StepResult(
                record, rows=listed, default=Effect.FAILED, default_result="NotReported"
            )
            chosen = pc.equal(listed.column("effect"), Effect.ADDED.value)
            added = listed.filter(chosen).column("key").to_pylist()
        owner = ctx.target.owner_field_id
        if step.kind == "add" and owner is not None:
            ownership = ListFieldOwnership(owner, self.config.suppress_email_notifications)
            await ownership.record(ctx, step, list_id, added)
            record["owned"] = len(added)
        return result

    def _import_file(
        self, ctx: RunContext[EmailTarget], kind: str, rows: pa.Table
    ) -> tuple[list[ImportFileMapping], bytes]:
        """The CSV of a step and its column mappings."""
        target = ctx.target
        columns: list[pa.Array | pa.ChunkedArray] = [rows.column("key")]
        names = ["email"]
        mappings = [ImportFileMapping(file_column=0, file_column_type="Email")]
        if kind != "remove":
            flag = "off" if kind == "flag_off" else "on"
            columns.append(pa.array([flag] * rows.num_rows, pa.string()))
            names.append(self.segment_field)
            mappings.append(
                ImportFileMapping(
                    file_column=1,
                    file_column_type="SegmentationField",
                    segmentation_field_id=known_id(
                        target.segment_field_id, f"audience field {target.segment_field!r}"
                    ),
                )
            )
        if kind == "own":
            mappings.append(
                ImportFileMapping(
                    file_column=len(columns),
                    file_column_type="SegmentationField",
                    segmentation_field_id=known_id(
                        target.owner_field_id, f"owner field {target.owner_field!r}"
                    ),
                )
            )
            columns.append(pa.array(["on"] * rows.num_rows, pa.string()))
            names.append(str(target.owner_field))
        if kind in ("add", "update", "own"):
            for index, spec in enumerate(target.fields):
                mappings.append(
                    ImportFileMapping(
                        file_column=len(columns),
                        file_column_type="SegmentationField",
                        segmentation_field_id=known_id(spec.field_id, f"field {spec.name!r}"),
                    )
                )
                columns.append(rows.column(f"attr_{index}"))
                names.append(spec.name)
        sink = io.BytesIO()
        pacsv.write_csv(pa.table(columns, names=names), sink)
        return mappings, sink.getvalue()

    async def _start(
        self,
        ctx: RunContext[EmailTarget],
        step: Step,
        list_id: int,
        import_file: ImportFile,
        data: bytes,
        attempt: int,
    ) -> tuple[int, Step]:
        """Start the step's import once: a journaled id is reused; an import that may have
        reached Listrak before a kill is looked up by its file name before sending again."""
        email = ctx.client.email
        if step.status == "submitted" and step.external_id:
            return int(step.external_id), step
        if (step.result or {}).get("sending"):
            found = await email.find_import(list_id, import_file.file_name)
            if found is not None:
                return found, ctx.submitted(step, str(found), file_name=import_file.file_name)
        step = ctx.sending(step, attempt=attempt, file_name=import_file.file_name)
        import_id = await email.start_import(list_id, import_file, data)
        return import_id, ctx.submitted(step, str(import_id), file_name=import_file.file_name)

    async def _contact_results(
        self, ctx: RunContext[EmailTarget], list_id: int, import_id: int, kind: str, rows: pa.Table
    ) -> pa.Table:
        keys: list[str] = []
        words: list[str] = []
        async for page in ctx.client.email.import_contact_pages(list_id, import_id):
            for item in page:
                keys.append(str(item.get("emailAddress") or "").strip().lower())
                words.append(str(item.get("importResult") or "Unknown"))
        effects = {word: effect_of(kind, word).value for word in set(words)}
        fields = self._refused_fields(ctx, rows, keys, words)
        return effect_rows(keys, [effects[w] for w in words], words, [None] * len(keys), fields)

    def _refused_fields(
        self, ctx: RunContext[EmailTarget], rows: pa.Table, keys: list[str], words: list[str]
    ) -> list[str | None]:
        """For ``SkippedInvalidValue`` rows, the profile field whose value was refused
        (Listrak does not say; the step's own values and the fields' rules do)."""
        refused = {k for k, w in zip(keys, words, strict=True) if w == "SkippedInvalidValue"}
        if not refused:
            return [None] * len(keys)
        specs = ctx.target.fields
        names = ["key", *(f"attr_{i}" for i in range(len(specs)))]
        mine = rows.select(names).filter(pc.is_in(rows.column("key"), pa.array(sorted(refused))))
        named = {
            str(item["key"]): refused_field([item[f"attr_{i}"] for i in range(len(specs))], specs)
            for item in mine.to_pylist()
        }
        return [
            named.get(k) if w == "SkippedInvalidValue" else None
            for k, w in zip(keys, words, strict=True)
        ]


def _as_text(column: pa.Array, data_type: str) -> pa.Array:
    kind = column.type
    if data_type == "CheckBox" and pa.types.is_boolean(kind):
        return pc.if_else(column, "on", "off")
    if data_type == "Date" and pa.types.is_timestamp(kind):
        return pc.strftime(column, format="%Y-%m-%d")
    if data_type == "Date" and pa.types.is_date(kind):
        return column.cast(pa.string())
    if pa.types.is_boolean(kind):
        return pc.if_else(column, "true", "false")
    return column.cast(pa.string())
