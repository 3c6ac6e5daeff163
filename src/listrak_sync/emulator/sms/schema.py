"""The SMS API's tables.

Listrak keeps SMS data at three levels, and so do these tables: the company (profile fields and
each phone number's profile: system fields and profile field values, shared by every sender
code), the sender code (which numbers exist on it, and their opt-out, ban and suspension), and
the SMS list (subscriptions). Phone numbers are stored normalised (see ``phones.py``), so
every comparison is a plain equality.

DuckDB answers point lookups from single-column indexes only: a lookup by the composite keys
(``sender_code_id, phone``) scans the whole table, which grows with every contact. The
``phone`` indexes keep per-contact calls (see ``lookups.py``) at a constant cost.
"""

from __future__ import annotations

__all__ = ["SCHEMA"]

SCHEMA = """
CREATE SEQUENCE IF NOT EXISTS sms_sender_code_id START 101;
CREATE SEQUENCE IF NOT EXISTS sms_list_id START 5001;
CREATE SEQUENCE IF NOT EXISTS sms_field_id START 7001;
CREATE SEQUENCE IF NOT EXISTS sms_import_id START 9001;
CREATE TABLE IF NOT EXISTS sms_sender_code (
    sender_code_id INTEGER PRIMARY KEY DEFAULT nextval('sms_sender_code_id'),
    code VARCHAR NOT NULL,
    country VARCHAR NOT NULL,
    disabled BOOLEAN NOT NULL,
    settings VARCHAR NOT NULL  -- the SenderCode resource's other members, as JSON
);
CREATE TABLE IF NOT EXISTS sms_list (
    phone_list_id INTEGER PRIMARY KEY DEFAULT nextval('sms_list_id'),
    sender_code_id INTEGER NOT NULL,
    phone_list_name VARCHAR NOT NULL,
    create_date TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL,  -- Active | Inactive
    sms_list_type VARCHAR NOT NULL,
    require_double_opt_in BOOLEAN NOT NULL,
    require_age_gate BOOLEAN NOT NULL
);
CREATE TABLE IF NOT EXISTS sms_field (
    field_id INTEGER PRIMARY KEY DEFAULT nextval('sms_field_id'),
    field_name VARCHAR NOT NULL,
    data_type VARCHAR NOT NULL,  -- Text | Number | Checkbox | Date
    max_length INTEGER,
    status_flag VARCHAR NOT NULL,  -- Active | Disabled | Purged
    system_column VARCHAR  -- set when the field holds a system field (first_name, ...)
);
CREATE TABLE IF NOT EXISTS sms_person (
    phone VARCHAR PRIMARY KEY,
    email_address VARCHAR,
    first_name VARCHAR,
    last_name VARCHAR,
    birthday TIMESTAMP,
    postal_code VARCHAR
);
CREATE TABLE IF NOT EXISTS sms_field_value (
    phone VARCHAR NOT NULL,
    field_id INTEGER NOT NULL,
    value VARCHAR NOT NULL,
    PRIMARY KEY (phone, field_id)
);
CREATE TABLE IF NOT EXISTS sms_contact (
    sender_code_id INTEGER NOT NULL,
    phone VARCHAR NOT NULL,
    create_date TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL,  -- Active | Banned | Suspended
    opted_out BOOLEAN NOT NULL,
    opt_out_date TIMESTAMP,
    opt_out_reason VARCHAR,
    PRIMARY KEY (sender_code_id, phone)
);
CREATE TABLE IF NOT EXISTS sms_subscription (
    phone_list_id INTEGER NOT NULL,
    phone VARCHAR NOT NULL,
    state VARCHAR NOT NULL,  -- Subscribed | Unsubscribed | Pending
    subscribe_date TIMESTAMP,
    unsubscribe_date TIMESTAMP,
    pending_date TIMESTAMP,
    pending_double_opt_in BOOLEAN NOT NULL,
    pending_age_gate BOOLEAN NOT NULL,
    PRIMARY KEY (phone_list_id, phone)
);
CREATE INDEX IF NOT EXISTS sms_contact_phone ON sms_contact (phone);
CREATE INDEX IF NOT EXISTS sms_field_value_phone ON sms_field_value (phone);
CREATE INDEX IF NOT EXISTS sms_subscription_phone ON sms_subscription (phone);
CREATE TABLE IF NOT EXISTS sms_import (
    import_id INTEGER PRIMARY KEY DEFAULT nextval('sms_import_id'),
    sender_code_id INTEGER NOT NULL,
    file_name VARCHAR NOT NULL,
    status VARCHAR NOT NULL,  -- Queued | Processing | Completed | Failed
    start_date TIMESTAMP,
    end_date TIMESTAMP,
    request VARCHAR NOT NULL,  -- qualifier, header flag and mappings, as JSON
    file BLOB,  -- the decoded file until it is processed
    summary VARCHAR  -- counts once processed, as JSON
);
CREATE TABLE IF NOT EXISTS sms_settings (
    name VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
"""
