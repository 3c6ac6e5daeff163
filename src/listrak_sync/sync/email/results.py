"""Listrak's per-contact import results, and what each means for a row of each kind of step.

The words are those of ``GET ListImport/{id}/Contact`` (``importResult``). A summary with one
kind of result for every row tells the whole story, so per-contact results are only paged
through when the summary shows more than one kind (or anything but success).
"""

from __future__ import annotations

from ...listrak import ListImportSummary
from ..destination import Effect
from ..refusals import classify

__all__ = ["KINDS", "effect_of", "uniform_result"]

# Step kinds of the email destination: what they do to a row.
KINDS = ("add", "update", "flag_off", "remove", "own")

_BY_KIND: dict[str, dict[str, Effect]] = {
    "add": {
        "Subscribed": Effect.ADDED,
        "AlreadySubscribed": Effect.APPLIED,
        "Updated": Effect.APPLIED,
        "PreviouslyUnsubscribed": Effect.DECLINED,
    },
    "update": {
        "Updated": Effect.APPLIED,
        "AlreadySubscribed": Effect.APPLIED,
        "PreviouslyUnsubscribed": Effect.DECLINED,
        "SkippedNotOnList": Effect.ABSENT,  # gone from the list: added again next run
    },
    "flag_off": {
        "Updated": Effect.APPLIED,
        "AlreadySubscribed": Effect.APPLIED,
        "PreviouslyUnsubscribed": Effect.DECLINED,
        "SkippedNotOnList": Effect.ABSENT,
    },
    "own": {
        "Updated": Effect.APPLIED,
        "AlreadySubscribed": Effect.APPLIED,
        "PreviouslyUnsubscribed": Effect.DECLINED,
        "SkippedNotOnList": Effect.ABSENT,
    },
    "remove": {
        "Unsubscribed": Effect.ABSENT,
        "AlreadyUnsubscribed": Effect.ABSENT,
        "SkippedNotOnList": Effect.ABSENT,
    },
}

# Summary member -> the one result word it stands for, when it stands for exactly one.
_SUMMARY_WORDS = {
    "subscribed_count": "Subscribed",
    "already_subscribed_count": "AlreadySubscribed",  # also "Updated": same effect everywhere
    "already_unsubscribed_count": "AlreadyUnsubscribed",
    "banned_count": "Banned",
    "invalid_email_count": "InvalidEmail",
    "previously_unsubscribed_count": "PreviouslyUnsubscribed",
    "suppressed_count": "Suppressed",
    "unsubscribed_count": "Unsubscribed",
}


def effect_of(kind: str, word: str) -> Effect:
    """The effect of result ``word`` on a row of a ``kind`` step. Any other word is a refusal:
    declined when permanent (banned, suppressed, invalid address or value), failed otherwise
    (retried next run); see ``refusals.py``."""
    return _BY_KIND[kind].get(word) or classify(word).effect


def uniform_result(kind: str, summary: ListImportSummary, rows: int) -> str | None:
    """The single result word every row got, when the summary proves there is one."""
    nonzero = {
        name: int(getattr(summary, name) or 0)
        for name in (*_SUMMARY_WORDS, "skipped_count")
        if int(getattr(summary, name) or 0) > 0
    }
    if len(nonzero) != 1:
        return None
    ((name, count),) = nonzero.items()
    if count != rows or name == "skipped_count":
        return None
    word = _SUMMARY_WORDS[name]
    if kind in ("update", "flag_off", "own") and word == "AlreadySubscribed":
        return "Updated"
    return word
