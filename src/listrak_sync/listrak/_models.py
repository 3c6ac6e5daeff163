"""Typed resources of the Email, SMS and Data APIs, named as in Listrak's specs.

Python attributes are snake_case; each model reads and writes the spec's camelCase names
(``segmentationFieldValues``, ``externalContactID``). Unknown members are kept, so a resource
read, changed and written back loses nothing Listrak added after this client was written.

The models are tolerant readers of what real Listrak sends (recorded traffic, see
``docs/reference/emulator.md``): an explicit ``null`` reads as an absent member, so its default
applies (a list of values stays a list); timestamps with or without fractional seconds, and
date-only values, parse alike.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

__all__ = [
    "Contact",
    "ContactImportResult",
    "ContactListSubscription",
    "CreateOutcome",
    "DataImportResult",
    "EmailList",
    "ForgetRequestStatus",
    "ImportContactFile",
    "ImportContactFileMapping",
    "ImportContactFileStatus",
    "ImportFile",
    "ImportFileMapping",
    "ImportFileResult",
    "ListImport",
    "ListImportResult",
    "ListImportStatus",
    "ListImportSummary",
    "ListrakModel",
    "OptOutContact",
    "PhoneAttribute",
    "PhoneList",
    "SegmentationField",
    "SegmentationFieldGroup",
    "SegmentationFieldValue",
    "SenderCode",
    "SmsContact",
    "SmsContactDetails",
    "SmsContactField",
    "SubscribeOutcome",
    "UnsubscribeOutcome",
]


class ListrakModel(BaseModel):
    """Base: camelCase on the wire, snake_case in Python, unknown members kept."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        # Real Listrak writes empty members as null where the specs leave them out.
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data

    def to_api(self) -> dict[str, Any]:
        """The JSON body Listrak expects: spec names, absent rather than null."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# --- Email ---------------------------------------------------------------------------------


class EmailList(ListrakModel):
    list_id: int | None = None
    list_name: str
    folder_id: int | None = None
    ip_pool_id: int | None = None
    bounce_domain_alias: str | None = None
    bounce_handling: str = "Standard"
    bounce_unsubscribe_count: int = 3
    create_date: datetime | None = None
    enable_double_opt_in: bool | None = None
    from_email: str | None = None
    from_name: str | None = None
    link_domain_alias: str | None = None


class SegmentationFieldValue(ListrakModel):
    segmentation_field_group_id: int | None = None
    segmentation_field_id: int
    value: str = ""  # null or absent: no value, as Listrak's empty value means


class Contact(ListrakModel):
    email_address: str
    email_key: str | None = None
    universal_email_key: str | None = None
    subscription_state: str | None = None
    subscribe_date: datetime | None = None
    resubscribe_date: datetime | None = None
    subscribe_method: str | None = None
    unsubscribe_date: datetime | None = None
    unsubscribe_method: str | None = None
    external_contact_id: str | None = Field(default=None, alias="externalContactID")
    segmentation_field_values: list[SegmentationFieldValue] = Field(default_factory=list)


class SegmentationFieldGroup(ListrakModel):
    segmentation_field_group_id: int | None = None
    segmentation_field_group_name: str
    position: int = 1


class SegmentationField(ListrakModel):
    segmentation_field_id: int | None = None
    segmentation_field_name: str
    segmentation_field_group_id: int | None = None
    data_type: str
    max_length: int = 0
    position: int = 1


class ImportFileMapping(ListrakModel):
    segmentation_field_id: int | None = None
    default_value: str | None = None
    file_column: int
    file_column_type: str


class ImportFile(ListrakModel):
    """A list import; ``file_stream`` is filled in by the client while it streams the body."""

    file_delimiter: str = ","
    file_mappings: list[ImportFileMapping]
    file_name: str
    file_stream: str | None = None
    has_column_names: bool = True
    import_type: str = "AddSubscribersAndSegmentationData"
    segmentation_import_type: str = "Update"
    suppress_email_notifications: bool | None = True
    text_qualifier: str | None = '"'
    trigger_journey: bool | None = None
    include_unsubscribed: bool | None = None


class ListImport(ListrakModel):
    import_file_id: int | None = None
    import_file_name: str | None = None
    import_date: datetime | None = None


class ListImportStatus(ListrakModel):
    start_date: datetime | None = None
    end_date: datetime | None = None
    status: str | None = None


class ListImportSummary(ListrakModel):
    already_subscribed_count: int | None = None
    already_unsubscribed_count: int | None = None
    banned_count: int | None = None
    invalid_email_count: int | None = None
    previously_unsubscribed_count: int | None = None
    processed_count: int | None = None
    skipped_count: int | None = None
    subscribed_count: int | None = None
    suppressed_count: int | None = None
    unsubscribed_count: int | None = None


# --- SMS -----------------------------------------------------------------------------------


class SenderCode(ListrakModel):
    short_code_id: int
    code: str | None = None
    country: str | None = None
    merchant_name: str | None = None
    email_list_id: int | None = None
    email_list_name: str | None = None


class PhoneList(ListrakModel):
    phone_list_id: int
    phone_list_name: str | None = None
    create_date: datetime | None = None
    status: str | None = None
    sms_list_type: str | None = None
    require_double_opt_in: bool | None = None
    require_age_gate: bool | None = None


class SmsContactField(ListrakModel):
    """``SMSPhoneContactAttribute``: one custom profile field value."""

    segmentation_field_id: int
    value: str = ""  # null or absent: no value


class SmsContact(ListrakModel):
    phone_number: str
    email_address: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    birthday: datetime | None = None
    postal_code: str | None = None
    opted_out: bool | None = None
    segmentation_field_values: list[SmsContactField] | None = None


class SmsContactDetails(SmsContact):
    """``SMSContactSubscriptionDetails``: a contact with its sender-code subscribe dates."""

    subscribe_date: datetime | None = None
    unsubscribe_date: datetime | None = None


class OptOutContact(ListrakModel):
    phone_number: str
    opt_out_date: datetime | None = None
    opt_out_reason: str | None = None


class ContactListSubscription(ListrakModel):
    phone_list_id: int
    subscription_state: str | None = None
    subscribe_date: datetime | None = None
    unsubscribe_date: datetime | None = None
    pending_date: datetime | None = None
    pending_double_opt_in: bool | None = None
    pending_age_gate: bool | None = None


class PhoneAttribute(ListrakModel):
    """An SMS profile field (``Text``, ``Number``, ``Checkbox`` or ``Date``)."""

    segmentation_field_id: int
    segmentation_field_name: str | None = None
    data_type: str | None = None
    max_length: int | None = None
    status_flag: str | None = None


class ImportContactFileMapping(ListrakModel):
    file_column_type: str
    segmentation_field_id: int = 0
    file_column: int
    default_value: str | None = None


class ImportContactFile(ListrakModel):
    """A Contact Update Import; ``file_stream`` is filled in while the body streams."""

    file_name: str
    file_stream: str | None = None
    import_type: str = "UpdateSubscribers"
    has_column_names: bool = True
    text_qualifier: str = '"'
    file_mappings: list[ImportContactFileMapping]


class ImportContactFileStatus(ListrakModel):
    import_file_id: int | None = None
    sms_sender_code_id: int | None = None
    file_name: str | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    status: str | None = None


class CreateOutcome(enum.StrEnum):
    """Result of SMS Create Contact. ``already_exists``: follow with a subscribe."""

    CREATED = "created"
    ALREADY_EXISTS = "already_exists"


class SubscribeOutcome(enum.StrEnum):
    SUBSCRIBED = "subscribed"
    ALREADY_SUBSCRIBED = "already_subscribed"


class UnsubscribeOutcome(enum.StrEnum):
    UNSUBSCRIBED = "unsubscribed"
    NOT_SUBSCRIBED = "not_subscribed"


# --- Results of bulk work ------------------------------------------------------------------


class ImportFileResult(BaseModel):
    """One finished import file: what was sent and the status Listrak ended it with."""

    import_file_id: int
    file_name: str
    rows: int
    file_bytes: int
    status: str | None
    start_date: datetime | None = None
    end_date: datetime | None = None


class ListImportResult(ImportFileResult):
    """One finished list import (one file of a possibly split import)."""

    summary: ListImportSummary | None = None


class ContactImportResult(ImportFileResult):
    """One finished SMS Contact Update Import file."""


class DataImportResult(BaseModel):
    """One Data API call: which entity, how many records, and the id Listrak returned."""

    entity: str
    resource_id: str | None
    records: int
    body_bytes: int


class ForgetRequestStatus(BaseModel):
    """A forget request as the Privacy API reports it."""

    request_id: str
    status: str  # PROCESSING or COMPLETE
    submitted_date: datetime | None = None
    processed_date: datetime | None = None

    @property
    def complete(self) -> bool:
        return self.status.upper() == "COMPLETE"
