"""PII masking for human output and logs: enough to recognise a row, not enough to read a
person's data.

The one rule for every human-readable output (previews, plans, run details, the demo, log lines,
error messages); each command that shows people has ``--show-pii`` to reveal them. ``--json``
output is for programs and shows values as they are.

Rows (previews): the email and phone keys are masked, and attributes whose names look personal
(name, email, phone, birth, address, street, postal, zip, mobile). Other attributes (tiers,
totals) show as they are. Free text: :func:`mask_text` masks every email address, phone number
and quoted value it finds, URL-encoded ones included (``/Contact/%2B1720...``).
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


# In free text: a quoted value (reasons quote the value refused: "(value 'jane@x')"), an email
# address (its "@" possibly URL-encoded as %40, as in a request path), or a phone number:
# international ("+" or its %2B encoding, then digits, spaces, dots, dashes, parentheses) or 10 to
# 15 digits in a row. List, sender code and import ids are shorter, so they stay readable; dates
# and times ("2026-12-03 02:14") are neither.
_IN_TEXT = re.compile(
    r"(?P<quoted>value '(?P<value>[^']*)')"
    r"|(?P<email>[^\s'\"<>()=,;:/?&]+(?:@|%40)[^\s'\"<>(),;:/?&]+)"
    r"|(?P<phone>(?:\+|%2[Bb])\d[\d ().-]{5,}\d|(?<![\w.%-])\d{10,15}(?![\w.-]))"
)


def _mask_match(match: re.Match[str]) -> str:
    if match["quoted"] is not None:
        value = match["value"]
        if "@" in value:
            return f"value '{mask_email(value)}'"
        if re.fullmatch(r"\+?[\d ().-]{7,}", value):
            return f"value '{mask_phone(value)}'"
        return f"value '{mask_value(value)}'"
    if match["email"] is not None:
        return mask_email(match["email"].replace("%40", "@"))
    found = match["phone"]
    if found[:3].upper() == "%2B":
        return "%2B" + mask_phone("+" + found[3:])[1:]
    return mask_phone(found)


def mask_text(text: str) -> str:
    """``text`` with every email address, phone number and quoted value in it masked:
    ``email=jane@example.com`` → ``email=j***@e***.com``."""
    return _IN_TEXT.sub(_mask_match, text)
