"""Who the sync added to an email list, kept in Listrak itself (``mode: mirror``).

``mirror`` removes a leaving member only if this destination put it on the list; others are
flagged off and stay subscribed. That knowledge must survive losing ``.listrak-sync/`` (a CI
runner, a container, a new laptop), so it is written where the contacts are: a CheckBox
profile field, ``{segment field}_added``, set ``on`` for exactly the contacts an ``add`` import
subscribed (per-contact result ``Subscribed``; contacts already on the list are never marked).
A first or ``--full`` run reads the field back with the list, so a fresh runner plans the same
removals as one that kept its snapshot.

The place is one class with two duties — :meth:`ListFieldOwnership.record` after an add,
and the field id to read with the list — so another store (a warehouse state table) can take
its place later without touching the engine: the engine only sees ``owned`` in what
``remote()`` yields and in the snapshot.

Recording is one ``UpdateSubscribers`` import per add step, journaled in the step's result: a
run killed while it runs looks it up by file name before sending it again (setting a CheckBox
``on`` twice changes nothing anyway).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.csv as pacsv

from ...listrak import ImportFile, ImportFileMapping
from ...state import Step

if TYPE_CHECKING:
    from ..context import RunContext
    from .target import EmailTarget

__all__ = ["ListFieldOwnership", "owner_field_name"]


def owner_field_name(segment_field: str) -> str:
    """The owner field of an audience field: ``spring`` -> ``spring_added``."""
    return f"{segment_field}_added"


class ListFieldOwnership:
    """Ownership kept in a CheckBox profile field of the list."""

    def __init__(self, field_id: int, suppress_email_notifications: bool) -> None:
        self.field_id = field_id
        self.suppress_email_notifications = suppress_email_notifications

    async def record(
        self, ctx: RunContext[EmailTarget], step: Step, list_id: int, keys: list[str]
    ) -> None:
        """Mark ``keys`` (just subscribed by ``step``) as added by this destination."""
        if not keys:
            return
        email = ctx.client.email
        current = ctx.store.step(ctx.run_id, step.step_id)
        done = dict(current.result or {})
        import_id = done.get("owner_import_id")
        file_name = ctx.file_name(step).removesuffix(".csv") + "-owner.csv"
        if import_id is None and done.get("owner_sending"):
            import_id = await email.find_import(list_id, file_name)
        if import_id is None:
            ctx.store.mark_step(
                ctx.run_id,
                step.step_id,
                current.status,
                result={**done, "owner_sending": True, "owner_file": file_name},
            )
            import_file = ImportFile(
                file_mappings=[
                    ImportFileMapping(file_column=0, file_column_type="Email"),
                    ImportFileMapping(
                        file_column=1,
                        file_column_type="SegmentationField",
                        segmentation_field_id=self.field_id,
                    ),
                ],
                file_name=file_name,
                import_type="UpdateSubscribers",
                segmentation_import_type="Update",
                suppress_email_notifications=self.suppress_email_notifications,
                trigger_journey=False,
                include_unsubscribed=False,
            )
            import_id = await email.start_import(list_id, import_file, _csv(keys))
            current = ctx.store.step(ctx.run_id, step.step_id)
            ctx.store.mark_step(
                ctx.run_id,
                step.step_id,
                current.status,
                result={**(current.result or {}), "owner_import_id": import_id},
            )
            ctx.checkpoint(f"owner_submitted:{step.step_id}")
        await email.wait_for_import(list_id, int(import_id))


def _csv(keys: list[str]) -> bytes:
    table = pa.table({"email": keys, "added": ["on"] * len(keys)})
    sink = io.BytesIO()
    pacsv.write_csv(table, sink)
    return sink.getvalue()
