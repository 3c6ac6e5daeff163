"""PII masking for human output and logs: enough to recognise a row, not enough to read a
person's data.

Rows (previews): the email and phone keys are masked, and attributes whose names look personal
(name, email, phone, birth, address, street, postal, zip, mobile). Other attributes (tiers,
totals) show as they are. Free text (log lines, error messages): :func:`mask_text` masks every
email address and phone number it finds, URL-encoded ones included (``/Contact/%2B1720...``).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["is_personal", "mask_email", "mask_phone", "mask_row", "mask_text", "mask_value"]

_PERSONAL = re.compile(r"name|email|phone|birth|dob|address|street|postal|zip|mobile", re.I)


def is_personal(column: str) -> bool:
    return bool(_PERSONAL.search(column))


def mask_email(value: str) -> str:
    """``jane.doe@example.com`` → ``j***@e***.com``."""
    local, _, domain = value.partition("@")
    if not domain:
        return f"{value[:1]}***"
    host, dot, tld = domain.rpartition(".")
    masked_domain = f"{host[:1]}***{dot}{tld}" if dot else f"{domain[:1]}***"
    return f"{local[:1]}***@{masked_domain}"


def mask_phone(value: str) -> str:
    """``+16175550123`` → ``+1*******23`` (country code and last two digits kept)."""
    digits = re.sub(r"\D", "", value)
    if len(digits) < 5:
        return "***"
    head = "+" + digits[:1] if value.startswith("+") else digits[:1]
    return f"{head}{'*' * (len(digits) - 3)}{digits[-2:]}"


def mask_value(value: Any) -> Any:
    """The first character of a text, then ``***``; other types become ``***``."""
    if value is None:
        return None
    text = str(value)
    return f"{text[:1]}***" if text else text


def mask_row(
    row: dict[str, Any], *, email: str | None = "email", phone: str | None = "phone"
) -> dict[str, Any]:
    """A copy of ``row`` with its personal columns masked."""
    masked: dict[str, Any] = {}
    for column, value in row.items():
        if value is None:
            masked[column] = None
        elif column == email or (isinstance(value, str) and "@" in value and is_personal(column)):
            masked[column] = mask_email(str(value))
        elif column == phone or "phone" in column.lower() or "mobile" in column.lower():
            masked[column] = mask_phone(str(value))
        elif is_personal(column):
            masked[column] = mask_value(value)
        else:
            masked[column] = value
    return masked


# An address, its "@" possibly URL-encoded (%40) as in a request path.
_EMAIL_IN_TEXT = re.compile(r"[\w.%+'-]+?(?:@|%40)[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
# A phone number: "+" (or its %2B encoding) and 7 to 15 digits, or 10 to 15 bare digits — list,
# sender code and import ids are shorter, so they stay readable.
_PHONE_IN_TEXT = re.compile(r"(?:\+|%2[Bb])\d{7,15}(?!\d)|(?<![\d.])\d{10,15}(?![\d.])")


def mask_text(text: str) -> str:
    """``text`` with every email address and phone number in it masked (see the module doc)."""
    text = _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group().replace("%40", "@")), text)
    return _PHONE_IN_TEXT.sub(_mask_phone_match, text)


def _mask_phone_match(match: re.Match[str]) -> str:
    found = match.group()
    if found[:3].upper() == "%2B":
        return "%2B" + mask_phone("+" + found[3:])[1:]
    return mask_phone(found)
