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

from ._csv import ImportColumn, Rows, csv_parts
from ._exceptions import ListrakApiError
from ._imports import file_body, poll_until_done
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
from ._session import Session

__all__ = ["SmsApi"]

PHONE_NUMBER_FOUND = "ERROR_PHONE_NUMBER_FOUND"
SUBSCRIBED_PHONE_NUMBER = "ERROR_SUBSCRIBED_PHONE_NUMBER"
PHONE_NUMBER_NOT_SUBSCRIBED = "ERROR_PHONE_NUMBER_NOT_SUBSCRIBED"


def _phone(number: str) -> str:
    return quote(number, safe="")


def _when(value: date | datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


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
        params: dict[str, Any] = {"optedOut": str(opted_out).lower()}
        if start_subscribe_date is not None:
            params["startSubscribeDate"] = _when(start_subscribe_date)
        if end_subscribe_date is not None:
            params["endSubscribeDate"] = _when(end_subscribe_date)
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
        params = {
            key: value
            for key, value in (("startDate", _when(start_date)), ("endDate", _when(end_date)))
            if value is not None
        }
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
        try:
            await self.session.call(
                "POST",
                f"/ShortCode/{sender_code_id}/PhoneList/{phone_list_id}/Contact",
                operation="Contact_PostContactListResource",
                json_body=contact.to_api(),
            )
        except ListrakApiError as exc:
            if exc.code == PHONE_NUMBER_FOUND:
                return CreateOutcome.ALREADY_EXISTS
            raise
        return CreateOutcome.CREATED

    async def subscribe(
        self, sender_code_id: int, phone_number: str, phone_list_id: int
    ) -> SubscribeOutcome:
        """Subscribe an existing contact; "already subscribed" is an outcome."""
        try:
            await self.session.call(
                "POST",
                f"/ShortCode/{sender_code_id}/Contact/{_phone(phone_number)}"
                f"/PhoneList/{phone_list_id}",
                operation="ContactListSubscription_PostContactListSubscription",
            )
        except ListrakApiError as exc:
            if exc.code == SUBSCRIBED_PHONE_NUMBER:
                return SubscribeOutcome.ALREADY_SUBSCRIBED
            raise
        return SubscribeOutcome.SUBSCRIBED

    async def unsubscribe(
        self, sender_code_id: int, phone_number: str, phone_list_id: int
    ) -> UnsubscribeOutcome:
        """Unsubscribe from one list; "not subscribed" is an outcome."""
        try:
            await self.session.call(
                "DELETE",
                f"/ShortCode/{sender_code_id}/ContactUnsubscribe/{_phone(phone_number)}"
                f"/PhoneList/{phone_list_id}",
                operation="ContactListSubscription_DeleteUnsubscribeContactListSubscription",
            )
        except ListrakApiError as exc:
            if exc.code == PHONE_NUMBER_NOT_SUBSCRIBED:
                return UnsubscribeOutcome.NOT_SUBSCRIBED
            raise
        return UnsubscribeOutcome.UNSUBSCRIBED

    async def update_contact(self, sender_code_id: int, contact: SmsContact) -> None:
        """Update system and custom fields (and opt out if ``opted_out``); a PUT, idempotent."""
        await self.session.call(
            "PUT",
            f"/ShortCode/{sender_code_id}/Contact",
            operation="Contact_PutContactResource",
            json_body=contact.to_api(),
        )

    # --- contact update imports ------------------------------------------------------------

    async def start_contact_import(
        self, sender_code_id: int, import_file: ImportContactFile, data: bytes
    ) -> int:
        """Start one Contact Update Import. It only sets field values, so a replay is
        harmless and it is retried like a PUT."""
        answer = await self.session.call(
            "POST",
            f"/ShortCode/{sender_code_id}/ContactImport",
            operation="Contact_PostImportFileResource",
            body=file_body(import_file.to_api(), data),
        )
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
        for part in csv_parts(rows, columns, max_bytes=max_file_bytes or settings.max_import_bytes):
            import_file = ImportContactFile(
                file_name=f"{file_name}-{run}-{part.index + 1:03d}.csv", file_mappings=mappings
            )
            import_file_id = await self.start_contact_import(sender_code_id, import_file, part.data)

            async def fetch(import_file_id: int = import_file_id) -> ImportContactFileStatus:
                return await self.contact_import(sender_code_id, import_file_id)

            status = await poll_until_done(
                fetch,
                lambda s: s.status,
                import_file_id=import_file_id,
                interval=settings.import_poll_interval,
                max_interval=settings.import_poll_max_interval,
                limit=settings.import_timeout,
                sleep=self._sleep,
                context={"path": f"/ShortCode/{sender_code_id}/ContactImport/{import_file_id}"},
            )
            results.append(
                ContactImportResult(
                    import_file_id=import_file_id,
                    file_name=import_file.file_name,
                    rows=part.rows,
                    file_bytes=len(part.data),
                    status=status.status,
                    start_date=status.start_date,
                    end_date=status.end_date,
                )
            )
        return results
