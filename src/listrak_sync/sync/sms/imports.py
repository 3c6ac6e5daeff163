"""Attributes in bulk: the SMS Contact Update Import, journaled so a resumed run re-polls.

The import sets profile field values of contacts already on the sender code and nothing else:
it never creates, subscribes, unsubscribes or touches opt-out state, which is why the sync uses
it for every attribute write but creation. An empty cell leaves the field as it is, so a null
attribute is never sent as a blank.

Each import file's id is journaled right after Listrak accepts it; a run killed while the import
runs polls the same id when it resumes instead of sending the file again. (The SMS API cannot
list imports, so a kill in the instant between Listrak's answer and the journal write sends the
file once more; the import only sets values, so that repeat changes nothing.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from ...listrak import ImportColumn, ImportContactFile, ImportContactFileMapping
from ...listrak._csv import csv_parts
from ...state import Step

if TYPE_CHECKING:
    from ..context import RunContext
    from .target import SmsTarget

__all__ = ["import_attributes"]


async def import_attributes(
    ctx: RunContext[SmsTarget], step: Step, rows: pa.Table
) -> dict[str, Any]:
    """Write the attributes of ``rows`` (``key`` + ``attr_i``, in the order of the target's
    fields) with one import per file part; returns a summary for the step."""
    target = ctx.target
    matches = target.fields
    if not matches or rows.num_rows == 0:
        return {}
    sms = ctx.client.sms
    settings = ctx.client.settings
    columns = [ImportColumn("phone", "Phone")] + [
        ImportColumn(f"field_{m.field_id}", "SegmentationField", m.field_id) for m in matches
    ]
    table = pa.table(
        [rows.column("key")] + [rows.column(f"attr_{i}") for i in range(len(matches))],
        names=[c.name for c in columns],
    )
    # Rows with nothing to write would only cost bytes.
    values = [table.column(i) for i in range(1, table.num_columns)]
    any_value = pc.is_valid(values[0])
    for column in values[1:]:
        any_value = pc.or_(any_value, pc.is_valid(column))
    table = table.filter(any_value)
    if table.num_rows == 0:
        return {"import_rows": 0}
    mappings = [
        ImportContactFileMapping(
            file_column=index,
            file_column_type=column.kind,
            segmentation_field_id=column.segmentation_field_id or 0,
        )
        for index, column in enumerate(columns)
    ]
    done = [int(i) for i in (step.external_id or "").split(",") if i]
    ids: list[int] = []
    for part in csv_parts([table], columns, max_bytes=settings.max_import_bytes):
        if part.index < len(done):
            ids.append(done[part.index])
            continue
        import_file = ImportContactFile(
            file_name=f"{ctx.file_name(step)}-{part.index + 1:03d}.csv", file_mappings=mappings
        )
        import_id = await sms.start_contact_import(target.sender_code_id, import_file, part.data)
        ids.append(import_id)
        ctx.submitted(step, ",".join(str(i) for i in ids))
    for import_id in ids:
        await sms.wait_for_contact_import(target.sender_code_id, import_id)
    return {"imports": ids, "import_rows": table.num_rows}
