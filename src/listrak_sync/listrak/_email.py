"""The Email API (``/email/v1``): lists, contacts, profile fields, list imports."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from ._csv import CsvPart, ImportColumn, Rows, csv_parts
from ._exceptions import NotFound
from ._imports import file_body, poll_import, size_refusal, start_in_pieces
from ._models import (
    Contact,
    EmailList,
    ImportFile,
    ImportFileMapping,
    ListImport,
    ListImportResult,
    ListImportStatus,
    ListImportSummary,
    SegmentationField,
    SegmentationFieldGroup,
)
from ._pacing import Sleep
from ._params import query, when
from ._session import Replay, Session

__all__ = ["EmailApi"]

log = logging.getLogger("listrak_sync.listrak")


class EmailApi:
    """Calls of one email integration. Get it as ``client.email``."""

    def __init__(self, session: Session, *, sleep: Sleep) -> None:
        self.session = session
        self._sleep = sleep

    # --- lists -----------------------------------------------------------------------------

    async def lists(self) -> list[EmailList]:
        answer = await self.session.call("GET", "/List", operation="List_GetListCollection")
        return [EmailList.model_validate(item) for item in answer.get("data", [])]

    async def get_list(self, list_id: int) -> EmailList:
        answer = await self.session.call(
            "GET", f"/List/{list_id}", operation="List_GetListResourceById"
        )
        return EmailList.model_validate(answer["data"])

    async def create_list(self, email_list: EmailList) -> int:
        """Create a list; returns its id. Not retried once it may have reached Listrak."""
        answer = await self.session.call(
            "POST",
            "/List",
            operation="List_PostListResource",
            json_body=email_list.to_api(),
            replay=Replay.IF_NOT_APPLIED,
        )
        return int(answer["resourceId"])

    async def update_list(self, email_list: EmailList) -> None:
        if email_list.list_id is None:
            raise ValueError("update_list needs list_id")
        await self.session.call(
            "PUT",
            f"/List/{email_list.list_id}",
            operation="List_PutListResource",
            json_body=email_list.to_api(),
        )

    # --- contacts --------------------------------------------------------------------------

    async def contacts(
        self,
        list_id: int,
        *,
        subscription_state: str = "Subscribed",
        segmentation_field_ids: Sequence[int] = (),
        start_date: date | datetime | str | None = None,
        end_date: date | datetime | str | None = None,
        external_contact_id: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[Contact]:
        """Every contact of the list in ``subscription_state``, page by page (up to 5000)."""
        if len(segmentation_field_ids) > 30:
            raise ValueError("Listrak returns at most 30 profile fields per contact request")
        params = query(
            subscriptionState=subscription_state,
            segmentationFieldIds=",".join(map(str, segmentation_field_ids)) or None,
            startDate=when(start_date),
            endDate=when(end_date),
            externalContactId=external_contact_id,
        )
        async for page in self.session.pages(
            f"/List/{list_id}/Contact",
            operation="Contact_GetContactCollection",
            params=params,
            page_size=page_size,
        ):
            for item in page:
                yield Contact.model_validate(item)

    async def get_contact(
        self, list_id: int, identifier: str, *, segmentation_field_ids: Sequence[int] = ()
    ) -> Contact:
        """A contact by email address or email key; raises ``NotFound`` if there is none."""
        answer = await self.session.call(
            "GET",
            f"/List/{list_id}/Contact/{identifier}",
            operation="Contact_GetContactResourceByIdentifier",
            params=query(segmentationFieldIds=",".join(map(str, segmentation_field_ids)) or None),
        )
        return Contact.model_validate(answer["data"])

    async def upsert_contact(
        self,
        list_id: int,
        contact: Contact,
        *,
        update_type: str = "Update",
        override_unsubscribe: bool = False,
        subscribed_by_contact: bool = False,
        send_double_opt_in: bool = False,
        event_ids: Sequence[int] = (),
        new_email_address: str | None = None,
    ) -> str:
        """Create or update one contact; returns Listrak's resourceId.

        Setting the same values twice leaves the same contact, so this is retried like a PUT,
        except when it raises events, sends a double opt-in email, appends profile values or
        changes the address: those are retried only when they surely did not run.
        """
        answer = await self._post_contact(
            list_id,
            contact,
            update_type=update_type,
            override_unsubscribe=override_unsubscribe,
            subscribed_by_contact=subscribed_by_contact,
            send_double_opt_in=send_double_opt_in,
            event_ids=event_ids,
            new_email_address=new_email_address,
        )
        return str(answer.get("resourceId", ""))

    async def save_contact(
        self, list_id: int, contact: Contact, *, update_type: str = "Update"
    ) -> bool:
        """Create or update one contact, never re-subscribing it (``overrideUnsubscribe`` is
        false: Listrak refuses an unsubscribed contact with ``ERROR_UNSUBSCRIBED_EMAIL_ADDRESS``
        when ``subscriptionState`` is ``Subscribed``). True when Listrak created the contact
        (201), False when it existed (200). Retried like a PUT: a retry after a lost 201 reads
        200."""
        answer = await self._post_contact(list_id, contact, update_type=update_type)
        return int(answer.get("status") or 200) == 201

    async def _post_contact(
        self,
        list_id: int,
        contact: Contact,
        *,
        update_type: str = "Update",
        override_unsubscribe: bool = False,
        subscribed_by_contact: bool = False,
        send_double_opt_in: bool = False,
        event_ids: Sequence[int] = (),
        new_email_address: str | None = None,
    ) -> dict[str, Any]:
        once = bool(event_ids) or send_double_opt_in or update_type == "Append"
        once = once or new_email_address is not None
        return await self.session.call(
            "POST",
            f"/List/{list_id}/Contact",
            operation="Contact_PostContactResource",
            params=query(
                eventIds=",".join(map(str, event_ids)) or None,
                overrideUnsubscribe=str(override_unsubscribe).lower(),
                subscribedByContact=str(subscribed_by_contact).lower(),
                sendDoubleOptIn=str(send_double_opt_in).lower(),
                updateType=update_type,
                newEmailAddress=new_email_address,
            ),
            json_body=contact.to_api(),
            replay=Replay.IF_NOT_APPLIED if once else Replay.ALWAYS,
        )

    # --- profile fields --------------------------------------------------------------------

    async def field_groups(self, list_id: int) -> list[SegmentationFieldGroup]:
        answer = await self.session.call(
            "GET",
            f"/List/{list_id}/SegmentationFieldGroup",
            operation="SegmentationFieldGroup_GetSegmentationFieldGroupCollection",
        )
        return [SegmentationFieldGroup.model_validate(item) for item in answer.get("data", [])]

    async def create_field_group(self, list_id: int, group: SegmentationFieldGroup) -> int:
        answer = await self.session.call(
            "POST",
            f"/List/{list_id}/SegmentationFieldGroup",
            operation="SegmentationFieldGroup_PostSegmentationFieldGroupResource",
            json_body=group.to_api(),
            replay=Replay.IF_NOT_APPLIED,
        )
        return int(answer["resourceId"])

    async def fields(self, list_id: int, group_id: int) -> list[SegmentationField]:
        answer = await self.session.call(
            "GET",
            f"/List/{list_id}/SegmentationFieldGroup/{group_id}/SegmentationField",
            operation="SegmentationField_GetSegmentationFieldCollection",
        )
        return [SegmentationField.model_validate(item) for item in answer.get("data", [])]

    async def create_field(self, list_id: int, group_id: int, field: SegmentationField) -> int:
        answer = await self.session.call(
            "POST",
            f"/List/{list_id}/SegmentationFieldGroup/{group_id}/SegmentationField",
            operation="SegmentationField_PostSegmentationFieldResource",
            json_body=field.to_api(),
            replay=Replay.IF_NOT_APPLIED,
        )
        return int(answer["resourceId"])

    async def update_field_values(
        self, list_id: int, values: Mapping[str, Mapping[int, str]]
    ) -> int:
        """Bulk-update profile fields, ``{email: {field id: value}}``; returns the importFileId.

        Beta route (``ERROR_INTEGRATION_CANNOT_ACCESS_BETA_ROUTE`` for some integrations): Listrak
        starts list imports that update existing contacts; follow with :meth:`wait_for_import`.
        Setting the same values twice leaves the same contacts, so it is retried like a PUT.
        """
        payload = [
            {
                "emailAddress": email,
                "segmentationFieldValues": [
                    {"segmentationFieldId": field_id, "value": value}
                    for field_id, value in fields.items()
                ],
            }
            for email, fields in values.items()
        ]
        answer = await self.session.call(
            "POST",
            f"/List/{list_id}/Contact/SegmentationField",
            operation="ContactSegmentationField_PostContactSegmentationFieldValuesResource",
            json_body=payload,
        )
        return int(answer["resourceId"])

    async def import_results(
        self, list_id: int, import_file_id: int
    ) -> AsyncIterator[tuple[str, str]]:
        """``(email, importResult)`` of each row of a finished list import (``Updated``, ...)."""
        async for page in self.session.pages(
            f"/List/{list_id}/ListImport/{import_file_id}/Contact",
            operation="ListImportContact_GetListImportContactCollection",
        ):
            for item in page:
                yield str(item.get("emailAddress", "")), str(item.get("importResult", ""))

    # --- list imports ----------------------------------------------------------------------

    async def list_imports(self, list_id: int) -> AsyncIterator[ListImport]:
        async for page in self.session.pages(
            f"/List/{list_id}/ListImport", operation="ListImport_GetListImportCollection"
        ):
            for item in page:
                yield ListImport.model_validate(item)

    async def import_status(self, list_id: int, import_file_id: int) -> ListImportStatus:
        answer = await self.session.call(
            "GET",
            f"/List/{list_id}/ListImport/{import_file_id}/Status",
            operation="ListImportStatus_GetListImportStatusResource",
        )
        return ListImportStatus.model_validate(answer["data"])

    async def import_summary(self, list_id: int, import_file_id: int) -> ListImportSummary:
        answer = await self.session.call(
            "GET",
            f"/List/{list_id}/ListImport/{import_file_id}/Summary",
            operation="ListImportSummary_GetListImportSummaryResource",
        )
        return ListImportSummary.model_validate(answer["data"])

    async def start_import(self, list_id: int, import_file: ImportFile, data: bytes) -> int:
        """Start one list import of ``data`` (the raw file); returns its importFileId.

        A new import is not idempotent, so an attempt that may have reached Listrak is not
        simply sent again: after the retry wait, the list's imports are searched for this
        ``fileName`` (make it unique), and the request is repeated only if none has it. These
        retries wait and give up like every other call's (``ClientSettings.retry``). A file
        Listrak's web server refuses for its size raises :class:`RequestTooLarge` (nothing was
        started).
        """
        body = file_body(import_file.to_api(), data)

        async def started() -> dict[str, Any] | None:
            found = await self._find_import(list_id, import_file.file_name)
            return None if found is None else {"resourceId": found}

        try:
            answer = await self.session.call(
                "POST",
                f"/List/{list_id}/ListImport",
                operation="ListImport_PostImportFileResource",
                body=body,
                replay=Replay.IF_NOT_APPLIED,
                reconcile=started,
            )
        except NotFound as exc:
            raise size_refusal(exc, body.length) or exc from None
        return int(answer["resourceId"])

    async def find_import(self, list_id: int, file_name: str) -> int | None:
        """The id of the list's import named ``file_name``, or None: how a caller that lost
        track of a started import (a killed process) finds it instead of sending it again."""
        return await self._find_import(list_id, file_name)

    async def import_contact_pages(
        self, list_id: int, import_file_id: int
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Per-contact results of a finished import, page by page, as raw
        ``{emailAddress, importResult}`` items (no model per contact: imports hold millions)."""
        async for page in self.session.pages(
            f"/List/{list_id}/ListImport/{import_file_id}/Contact",
            operation="ListImportContact_GetListImportContactCollection",
        ):
            yield page

    async def contact_pages(
        self,
        list_id: int,
        *,
        subscription_state: str = "Subscribed",
        segmentation_field_ids: Sequence[int] = (),
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Like :meth:`contacts`, but raw pages of dicts: for reading a whole large list."""
        if len(segmentation_field_ids) > 30:
            raise ValueError("Listrak returns at most 30 profile fields per contact request")
        params = query(
            subscriptionState=subscription_state,
            segmentationFieldIds=",".join(map(str, segmentation_field_ids)) or None,
        )
        async for page in self.session.pages(
            f"/List/{list_id}/Contact", operation="Contact_GetContactCollection", params=params
        ):
            yield page

    async def _find_import(self, list_id: int, file_name: str) -> int | None:
        async for item in self.list_imports(list_id):
            if item.import_file_name == file_name and item.import_file_id is not None:
                return item.import_file_id
        return None

    async def wait_for_import(self, list_id: int, import_file_id: int) -> ListImportStatus:
        return await poll_import(
            lambda: self.import_status(list_id, import_file_id),
            lambda status: status.status,
            import_file_id=import_file_id,
            settings=self.session.settings,
            sleep=self._sleep,
            path=f"/List/{list_id}/ListImport/{import_file_id}/Status",
        )

    async def import_contacts(
        self,
        list_id: int,
        rows: Rows,
        *,
        columns: Sequence[ImportColumn],
        import_type: str | None = None,
        segmentation_import_type: str = "Update",
        suppress_email_notifications: bool = True,
        trigger_journey: bool | None = None,
        include_unsubscribed: bool | None = None,
        file_name: str = "listrak-sync",
        max_file_bytes: int | None = None,
    ) -> list[ListImportResult]:
        """Bulk-import ``rows`` into a list and wait for Listrak to finish; one result per file.

        The CSV is built as the rows arrive and cut into files under ``max_file_bytes`` (the
        185 MB limit by default). Each file is started as soon as it is complete and all are
        polled together; summaries come back in file order. ``import_type`` defaults to
        ``AddSubscribersAndSegmentationData`` when a column is a profile field, else
        ``AddSubscribers``.
        """
        if import_type is None:
            with_fields = any(column.kind == "SegmentationField" for column in columns)
            import_type = "AddSubscribersAndSegmentationData" if with_fields else "AddSubscribers"
        limit = max_file_bytes or self.session.settings.max_import_bytes
        mappings = [
            ImportFileMapping(
                file_column=index,
                file_column_type=column.kind,
                segmentation_field_id=column.segmentation_field_id,
                default_value=column.default_value,
            )
            for index, column in enumerate(columns)
        ]
        run = uuid.uuid4().hex[:12]
        waits: list[asyncio.Task[ListImportResult]] = []
        try:
            for part in csv_parts(rows, columns, max_bytes=limit):

                async def start(piece: CsvPart, suffix: str) -> tuple[ImportFile, int]:
                    import_file = ImportFile(
                        file_mappings=mappings,
                        file_name=f"{file_name}-{run}-{piece.index + 1:03d}{suffix}.csv",
                        import_type=import_type,
                        segmentation_import_type=segmentation_import_type,
                        suppress_email_notifications=suppress_email_notifications,
                        trigger_journey=trigger_journey,
                        include_unsubscribed=include_unsubscribed,
                    )
                    return import_file, await self.start_import(list_id, import_file, piece.data)

                # A file refused for its size is sent again as halves (see start_in_pieces).
                for piece, import_file, import_file_id in await start_in_pieces(part, start):
                    waits.append(
                        asyncio.create_task(
                            self._finish(list_id, import_file_id, import_file, piece)
                        )
                    )
            return list(await asyncio.gather(*waits))
        except BaseException:
            for task in waits:
                task.cancel()
            raise

    async def _finish(
        self, list_id: int, import_file_id: int, import_file: ImportFile, part: CsvPart
    ) -> ListImportResult:
        status = await self.wait_for_import(list_id, import_file_id)
        summary = await self.import_summary(list_id, import_file_id)
        return ListImportResult(
            import_file_id=import_file_id,
            file_name=import_file.file_name,
            rows=part.rows,
            file_bytes=len(part.data),
            status=status.status,
            start_date=status.start_date,
            end_date=status.end_date,
            summary=summary,
        )
