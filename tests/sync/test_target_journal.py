"""Targets as journaled by the untyped destinations of the previous version load into the
typed models (a run killed before an upgrade is resumed after it), and a target's journal
loads back into an equal target."""

from __future__ import annotations

from listrak_sync.sync.email.target import EmailTarget, FieldSpec
from listrak_sync.sync.sms.fields import FieldMatch
from listrak_sync.sync.sms.target import SmsTarget

# Written by EmailSync.prepare() before the targets were typed (a mirror destination).
OLD_EMAIL = {
    "list_name": "Newsletter",
    "mode": "mirror",
    "list_id": 1001,
    "field_group_id": 3,
    "field_group": "listrak-sync Audiences",
    "segment_field": "spring",
    "segment_field_id": 11,
    "segment_field_created": False,
    "owner_field": "spring (listrak-sync)",
    "owner_field_id": 12,
    "owner_field_created": True,
    "fields": [
        {
            "column": "city",
            "name": "City",
            "field_id": 13,
            "data_type": "Text",
            "created": True,
            "max_length": 255,
        }
    ],
    "created": ["CheckBox field 'spring (listrak-sync)'"],
    "would_create": [],
}
# Written by SmsSync.prepare() before the targets were typed.
OLD_SMS = {
    "sender_code_id": 101,
    "sender_code": "55501",
    "list_id": 5001,
    "list_name": "Marketing",
    "pending_on_subscribe": False,
    "fields": [
        {
            "name": "loyalty_tier",
            "field_id": 7003,
            "field_name": "Loyalty Tier",
            "data_type": "Text",
            "max_length": 20,
        }
    ],
    "opted_out": 2,
}


def test_an_old_email_journal_loads_into_the_email_target() -> None:
    target = EmailTarget.from_journal(OLD_EMAIL)

    assert target.list_id == 1001
    assert target.owner_field_id == 12
    assert target.owner_field_created is True
    assert target.fields == [
        FieldSpec(
            column="city",
            name="City",
            field_id=13,
            data_type="Text",
            created=True,
            max_length=255,
        )
    ]
    assert target.journal() == OLD_EMAIL


def test_an_old_sms_journal_loads_into_the_sms_target() -> None:
    target = SmsTarget.from_journal(OLD_SMS)

    assert (target.sender_code_id, target.list_id) == (101, 5001)
    assert target.fields == [FieldMatch("loyalty_tier", 7003, "Loyalty Tier", "Text", 20)]
    assert target.journal() == OLD_SMS
