"""Phone numbers as the emulated SMS API reads and stores them.

Listrak's spec does not state a format. The emulator accepts what a person would type: with or
without ``+``, spaces, dashes, dots or brackets, an ``00`` international prefix, or a national
number, read in the sender code's country (its ISO 3166-1 ``country``). It keeps the E.164
digits without the ``+`` (``12155550123``), the form Listrak's file schemas show, answers with
that form, and compares numbers in it. A number that libphonenumber does not consider valid is
refused with ``ERROR_INVALID_PHONE_NUMBER``.

Imports match millions of rows, so they do not parse each number in Python: ``candidates_sql``
builds the same normalisation from SQL string functions, producing the keys a row may mean,
and the import joins them to existing contacts (which were validated when they were created).
"""

from __future__ import annotations

import re

import phonenumbers

from ..errors import ListrakHTTPError

__all__ = ["candidates_sql", "country_calling_code", "normalize_phone", "phone_or_error"]

_SEPARATORS = re.compile(r"[\s().\-/]")


def normalize_phone(raw: str, country: str) -> str | None:
    """The stored form of ``raw`` (E.164 digits, no ``+``), or None when it is not valid."""
    text = _SEPARATORS.sub("", raw.strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text or not re.fullmatch(r"\+?\d{4,17}", text):
        return None
    attempts = [text] if text.startswith("+") else [text, "+" + text]
    for attempt in attempts:
        try:
            number = phonenumbers.parse(attempt, None if attempt.startswith("+") else country)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]
    return None


def phone_or_error(raw: str | None, country: str) -> str:
    """The stored form of ``raw``, or Listrak's ``ERROR_INVALID_PHONE_NUMBER``."""
    phone = normalize_phone(raw, country) if isinstance(raw, str) else None
    if phone is None:
        raise ListrakHTTPError(
            400, "ERROR_INVALID_PHONE_NUMBER", "The phoneNumber supplied is in an invalid format."
        )
    return phone


def country_calling_code(country: str) -> str:
    """The calling code of an ISO country (``US`` → ``1``), as a string for SQL."""
    return str(phonenumbers.country_code_for_region(country.upper()))


def candidates_sql(column: str, calling_code: str) -> tuple[str, str, str]:
    """SQL for the keys a raw phone column may mean: (international, national, trunk-stripped).

    ``+``/``00`` numbers have only the first; a national number (``2155550123`` or
    ``07700900123``) also gets the calling code prepended, with and without its leading trunk
    ``0``. The caller prefers the national readings, like ``normalize_phone`` does.
    """
    digits = f"regexp_replace({column}, '[^0-9]', '', 'g')"
    international = (
        f"CASE WHEN ltrim({column}) LIKE '+%' THEN {digits} "
        f"WHEN {digits} LIKE '00%' THEN substr({digits}, 3) ELSE {digits} END"
    )
    is_national = f"NOT (ltrim({column}) LIKE '+%' OR {digits} LIKE '00%')"
    national = f"CASE WHEN {is_national} THEN '{calling_code}' || {digits} END"
    trunk = (
        f"CASE WHEN {is_national} AND {digits} LIKE '0%' "
        f"THEN '{calling_code}' || substr({digits}, 2) END"
    )
    return international, national, trunk
