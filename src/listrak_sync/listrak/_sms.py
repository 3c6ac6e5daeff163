"""The SMS API (``/sms/v1``): sender codes, lists, per-contact calls, opt-outs, contact imports.

The per-contact calls are made for concurrent use (``asyncio.gather`` or a task group); the
session's concurrency limit and pacer keep the integration within Listrak's bounds. Outcomes that
mean "already so" come back as values, not exceptions, which is what makes these calls safe to
retry: a replayed subscribe whose first attempt was applied answers "already subscribed".
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from ._csv import CsvPart, ImportColumn, Rows, csv_parts
from ._exceptions import ListrakApiError, NotFound
from ._imports import file_body, poll_import, size_refusal, start_in_pieces
from ._models import (
    ContactImportResult,
    ContactListSubscription,
    CreateOutcome,
    ImportContactFile,
    ImportContactFileMapping,
    ImportContactFileStatus,
    OptOutContact,
    PhoneAttribute,
    PhoneList,
    SenderCode,
    SmsContact,
    SmsContactDetails,
    SubscribeOutcome,
    UnsubscribeOutcome,
)
from ._pacing import Sleep
from ._params import query, when
from ._session import Session

__all__ = ["SmsApi"]

PHONE_NUMBER_FOUND = "ERROR_PHONE_NUMBER_FOUND"
SUBSCRIBED_PHONE_NUMBER = "ERROR_SUBSCRIBED_PHONE_NUMBER"
PHONE_NUMBER_NOT_SUBSCRIBED = "ERROR_PHONE_NUMBER_NOT_SUBSCRIBED"


def _phone(number: str) -> str:
    return quote(number, safe="")


class SmsApi:
    """Calls of one SMS integration. Get it as ``client.sms``."""

    def __init__(self, session: Session, *, sleep: Sleep) -> None:
        self.session = session
        self._sleep = sleep

    # --- sender codes, lists, profile fields -----------------------------------------------

    async def sender_codes(self) -> list[SenderCode]:
        answer = await self.session.call(
            "GET", "/ShortCode", operation="SenderCode_GetShortCodeCollection"
        )
        return [SenderCode.model_validate(item) for item in answer.get("data", [])]

    async def get_sender_code(self, sender_code_id: int) -> SenderCode:
        answer = await self.session.call(
            "GET", f"/ShortCode/{sender_code_id}", operation="SenderCode_GetShortCodeResource"
        )
        return SenderCode.model_validate(answer["data"])

    async def phone_lists(
        self, sender_code_id: int, *, status: str = "active"
    ) -> AsyncIterator[PhoneList]:
        async for page in self.session.pages(
            f"/ShortCode/{sender_code_id}/PhoneList",
            operation="PhoneList_GetListCollection",
            params={"status": status},
        ):
            for item in page:
                yield PhoneList.model_validate(item)

    async def get_phone_list(self, sender_code_id: int, phone_list_id: int) -> PhoneList:
        answer = await self.session.call(
            "GET",
            f"/ShortCode/{sender_code_id}/PhoneList/{phone_list_id}",
            operation="PhoneList_GetListResource",
        )
        # The spec answers this one resource without the {status, data} envelope.
        return PhoneList.model_validate(answer.get("data", answer))

    async def profile_fields(self, sender_code_id: int) -> list[PhoneAttribute]:
        answer = await self.session.call(
            "GET",
            f"/ShortCode/{sender_code_id}/SegmentationField",
            operation="Segmentation_GetPhoneAttributeCollection",
        )
        return [PhoneAttribute.model_validate(item) for item in answer.get("data", [])]

    # --- reading contacts ------------------------------------------------------------------

    async def contacts(
        self,
        sender_code_id: int,
        phone_list_id: int,
        *,
        opted_out: bool = False,
        start_subscribe_date: date | datetime | str | None = None,
        end_subscribe_date: date | datetime | str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[SmsContact]:
        params = query(
            optedOut=str(opted_out).lower(),
            startSubscribeDate=when(start_subscribe_date),
            endSubscribeDate=when(end_subscribe_date),
        )
        async for page in self.session.pages(
            f"/ShortCode/{sender_code_id}/PhoneList/{phone_list_id}/Contact",
            operation="Contact_GetContactCollection",
            params=params,
            page_size=page_size,
        ):
            for item in page:
                yield SmsContact.model_validate(item)

    async def opt_outs(
        self,
        sender_code_id: int,
        *,
        start_date: date | datetime | str | None = None,
        end_date: date | datetime | str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[OptOutContact]:
        params = query(startDate=when(start_date), endDate=when(end_date))
        async for page in self.session.pages(
            f"/ShortCode/{sender_code_id}/OptOut",
            operation="Contact_GetOptOuts",
            params=params,
            page_size=page_size,
        ):
            for item in page:
                yield OptOutContact.model_validate(item)

    async def get_contact(self, sender_code_id: int, phone_number: str) -> SmsContactDetails:
        """The contact on the sender code; raises ``NotFound`` or ``ListrakApiError``
        (``ERROR_PHONE_NUMBER_NOT_FOUND``) when there is none."""
        answer = await self.session.call(
            "GET",
            f"/ShortCode/{sender_code_id}/Contact/{_phone(phone_number)}",
            operation="Contact_GetContactResource",
        )
        return SmsContactDetails.model_validate(answer["data"])

    async def contact_lists(
        self, sender_code_id: int, phone_number: str
    ) -> AsyncIterator[ContactListSubscription]:
        async for page in self.session.pages(
            f"/ShortCode/{sender_code_id}/Contact/{_phone(phone_number)}/PhoneList",
            operation="ContactListSubscription_GetContactListCollection",
        ):
            for item in page:
                yield ContactListSubscription.model_validate(item)

    # --- per-contact writes ----------------------------------------------------------------

    async def create_contact(
        self, sender_code_id: int, phone_list_id: int, contact: SmsContact
    ) -> CreateOutcome:
        """Create the contact and subscribe it to the list.

        ``ALREADY_EXISTS`` (Listrak's ERROR_PHONE_NUMBER_FOUND) is an outcome, not an error:
        the number existed on the sender code, maybe because a lost answer hid that an earlier
        attempt of this very call worked. Follow it with :meth:`subscribe` (and
        :meth:`update_contact` for the attributes). That makes the call safe to retry.
        """
        created = await self._unless(
            PHONE_NUMBER_FOUND,
            "POST",
            f"/ShortCode/{sender_code_id}/PhoneList/{phone_list_id}/Contact",
            operation="Contact_PostContactListResource",
            json_body=contact.to_api(),
        )
        return CreateOutcome.CREATED if created else CreateOutcome.ALREADY_EXISTS

    async def subscribe(
        self, sender_code_id: int, phone_number: str, phone_list_id: int
    ) -> SubscribeOutcome:
        """Subscribe an existing contact; "already subscribed" is an outcome."""
        subscribed = await self._unless(
            SUBSCRIBED_PHONE_NUMBER,
            "POST",
            f"/ShortCode/{sender_code_id}/Contact/{_phone(phone_number)}/PhoneList/{phone_list_id}",
            operation="ContactListSubscription_PostContactListSubscription",
        )
        return SubscribeOutcome.SUBSCRIBED if subscribed else SubscribeOutcome.ALREADY_SUBSCRIBED

    async def unsubscribe(
        self, sender_code_id: int, phone_number: str, phone_list_id: int
    ) -> UnsubscribeOutcome:
        """Unsubscribe from one list; "not subscribed" is an outcome."""
        unsubscribed = await self._unless(
            PHONE_NUMBER_NOT_SUBSCRIBED,
            "DELETE",
            f"/ShortCode/{sender_code_id}/ContactUnsubscribe/{_phone(phone_number)}"
            f"/PhoneList/{phone_list_id}",
            operation="ContactListSubscription_DeleteUnsubscribeContactListSubscription",
        )
        return (
            UnsubscribeOutcome.UNSUBSCRIBED if unsubscribed else UnsubscribeOutcome.NOT_SUBSCRIBED
        )

    async def update_contact(self, sender_code_id: int, contact: SmsContact) -> None:
        """Update system and custom fields (and opt out if ``opted_out``); a PUT, idempotent."""
        await self.session.call(
            "PUT",
            f"/ShortCode/{sender_code_id}/Contact",
            operation="Contact_PutContactResource",
            json_body=contact.to_api(),
        )

    async def _unless(
        self, already: str, method: str, path: str, *, operation: str, json_body: Any = None
    ) -> bool:
        """Make the call; False when Listrak refuses it with the error code ``already``
        (the "already so" answers that make these calls safe to retry)."""
        try:
            await self.session.call(method, path, operation=operation, json_body=json_body)
        except ListrakApiError as exc:
            if exc.code == already:
                return False
            raise
        return True

    # --- contact update imports ------------------------------------------------------------

    async def start_contact_import(
        self, sender_code_id: int, import_file: ImportContactFile, data: bytes
    ) -> int:
        """Start one Contact Update Import. It only sets field values, so a replay is
        harmless and it is retried like a PUT. A file Listrak's web server refuses for its size
        raises :class:`RequestTooLarge`."""
        body = file_body(import_file.to_api(), data)
        try:
            answer = await self.session.call(
                "POST",
                f"/ShortCode/{sender_code_id}/ContactImport",
                operation="Contact_PostImportFileResource",
                body=body,
            )
        except NotFound as exc:
            raise size_refusal(exc, body.length) or exc from None
        return int(answer["resourceId"])

    async def contact_import(
        self, sender_code_id: int, import_file_id: int
    ) -> ImportContactFileStatus:
        answer = await self.session.call(
            "GET",
            f"/ShortCode/{sender_code_id}/ContactImport/{import_file_id}",
            operation="Contact_GetImportFileResource",
        )
        return ImportContactFileStatus.model_validate(answer["data"])

    async def wait_for_contact_import(
        self, sender_code_id: int, import_file_id: int
    ) -> ImportContactFileStatus:
        """Poll the import until it is finished; raises if it failed or took too long."""
        return await poll_import(
            lambda: self.contact_import(sender_code_id, import_file_id),
            lambda status: status.status,
            import_file_id=import_file_id,
            settings=self.session.settings,
            sleep=self._sleep,
            path=f"/ShortCode/{sender_code_id}/ContactImport/{import_file_id}",
        )

    async def import_contact_updates(
        self,
        sender_code_id: int,
        rows: Rows,
        *,
        columns: Sequence[ImportColumn],
        file_name: str = "listrak-sync-sms",
        max_file_bytes: int | None = None,
    ) -> list[ContactImportResult]:
        """Bulk-update contact fields (phone column ``kind="Phone"``, then profile fields)."""
        settings = self.session.settings
        mappings = [
            ImportContactFileMapping(
                file_column=index,
                file_column_type=column.kind,
                segmentation_field_id=column.segmentation_field_id or 0,
                default_value=column.default_value,
            )
            for index, column in enumerate(columns)
        ]
        run = uuid.uuid4().hex[:12]
        results: list[ContactImportResult] = []

        async def start(piece: CsvPart, suffix: str) -> tuple[ImportContactFile, int]:
            import_file = ImportContactFile(
                file_name=f"{file_name}-{run}-{piece.index + 1:03d}{suffix}.csv",
                file_mappings=mappings,
            )
            return import_file, await self.start_contact_import(
                sender_code_id, import_file, piece.data
            )

        for part in csv_parts(rows, columns, max_bytes=max_file_bytes or settings.max_import_bytes):
            # A file refused for its size is sent again as halves (see start_in_pieces).
            for piece, import_file, import_file_id in await start_in_pieces(part, start):
                status = await self.wait_for_contact_import(sender_code_id, import_file_id)
                results.append(
                    ContactImportResult(
                        import_file_id=import_file_id,
                        file_name=import_file.file_name,
                        rows=piece.rows,
                        file_bytes=len(piece.data),
                        status=status.status,
                        start_date=status.start_date,
                        end_date=status.end_date,
                    )
                )
        return results
