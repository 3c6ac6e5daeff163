"""What a refusal from Listrak means for a row, for email and SMS alike.

A refusal is *permanent* when sending the same row again can only get the same answer: the
address is banned, suppressed or not an address Listrak accepts, the contact unsubscribed or
opted out, or a value does not fit its profile field (type, length). Such a row is recorded
``declined`` with the reason and the field refused; the snapshot remembers it with the row's
attribute hash, so it is not sent again until the row's data changes (or ``--full``), and the
run reports it as a warning, not a failure. Anything else (an unknown answer, a row Listrak did
not report) is *transient*: recorded ``failed`` and tried again on the next run.

Listrak's email import results (``importResult`` words) and SMS error codes both land here, so
one table decides for both destinations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .destination import Effect

__all__ = ["ADDRESS", "PERMANENT_OUTCOMES", "Refusal", "classify", "snake_case"]

# The field of a refusal about the address itself (the contact's key).
ADDRESS = {"email": "email", "sms": "phone"}


@dataclass(frozen=True)
class Refusal:
    outcome: str  # our word for it, e.g. banned, invalid_value; the row outcome's name
    permanent: bool
    reason: str
    about_address: bool = False  # the key is refused (its field is ``email`` / ``phone``)

    @property
    def effect(self) -> Effect:
        return Effect.DECLINED if self.permanent else Effect.FAILED


_PERMANENT: dict[str, Refusal] = {
    # Email import results.
    "PreviouslyUnsubscribed": Refusal(
        "previously_unsubscribed",
        True,
        "the contact unsubscribed; listrak-sync never re-subscribes",
    ),
    "Banned": Refusal("banned", True, "the address is banned in Listrak", about_address=True),
    "Suppressed": Refusal(
        "suppressed", True, "the address is on Listrak's suppression list", about_address=True
    ),
    "InvalidEmail": Refusal(
        "invalid_email", True, "Listrak does not accept the address", about_address=True
    ),
    "SkippedInvalidValue": Refusal(
        "invalid_value", True, "a value does not fit its profile field (type or length)"
    ),
    "SkippedBlankEmail": Refusal("blank_email", True, "the address is blank", about_address=True),
    # SMS error codes.
    "ERROR_BANNED_PHONE_NUMBER": Refusal(
        "banned", True, "the number is banned in Listrak", about_address=True
    ),
    "ERROR_PHONE_NUMBER_SUSPENDED": Refusal(
        "suspended", True, "the number is suspended in Listrak", about_address=True
    ),
    "ERROR_INVALID_PHONE_NUMBER": Refusal(
        "invalid_phone", True, "Listrak does not accept the number", about_address=True
    ),
    "ERROR_PENDING_PHONE_NUMBER": Refusal(
        "pending", True, "the number is pending confirmation (double opt-in or age gate)"
    ),
    "ERROR_SEGMENTATION_MAX_LENGTH": Refusal(
        "invalid_value", True, "a value is longer than its profile field holds"
    ),
    "ERROR_INVALID_EMAIL_ADDRESS": Refusal(
        "invalid_value", True, "the Email profile field refuses the value"
    ),
    "ERROR_BIRTHDAY_FIELD_NULL": Refusal(
        "invalid_value", True, "the Birthday profile field refuses the value"
    ),
    # Our own checks, made before sending.
    "invalid_value": Refusal(
        "invalid_value", True, "a value does not fit its profile field (type or length)"
    ),
    "opted_out": Refusal("opted_out", True, "opted out of the sender code"),
}


# Our outcome names of permanent refusals (for reports: "declined, not sent again").
PERMANENT_OUTCOMES = frozenset(r.outcome for r in _PERMANENT.values())


def classify(word: str, reason: str | None = None) -> Refusal:
    """The refusal ``word`` (an email import result or an SMS error code) stands for;
    ``reason``, when given, replaces the generic one (Listrak's message, our check's)."""
    found = _PERMANENT.get(word)
    if found is None:
        found = Refusal(snake_case(word), False, f"Listrak answered {word}; tried again next run")
    if reason:
        return Refusal(found.outcome, found.permanent, reason, found.about_address)
    return found


def snake_case(word: str) -> str:
    """``PreviouslyUnsubscribed`` -> ``previously_unsubscribed``; codes are lower-cased."""
    if word.isupper() or "_" in word:
        return word.lower()
    return re.sub(r"(?<!^)(?=[A-Z])", "_", word).lower()
