"""Per-contact SMS calls — subscribe, create-and-subscribe, unsubscribe — and their outcomes.

The SMS API has no bulk form for list membership, so additions and removals are one call per
contact, run concurrently within the client's limit. About one request per change: the sync
already knows (from the list's pages and the previous snapshot) which numbers exist on the
sender code, so it subscribes those and creates the others, and falls back on Listrak's own
answer when that knowledge is stale (``ERROR_PHONE_NUMBER_NOT_FOUND`` on subscribe → create;
``ERROR_PHONE_NUMBER_FOUND`` on create → subscribe). The seed connector's Get Contact before
every addition is never needed.

Every call is safe to repeat (a run resumed after a kill repeats the calls of the step it was
in): a repeated subscribe answers "already subscribed", a repeated create "found", a repeated
unsubscribe "not subscribed".
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ...listrak import (
    AuthError,
    ConfigurationError,
    CreateOutcome,
    ListrakError,
    SmsApi,
    SmsContact,
    SmsContactField,
    SubscribeOutcome,
)
from ..errors import StepStopped
from ..refusals import ADDRESS, classify
from .target import SmsTarget

__all__ = [
    "Addition",
    "Outcome",
    "SmsTarget",
    "StopSync",
    "add_contact",
    "remove_contact",
    "run_concurrently",
]

NOT_FOUND = "ERROR_PHONE_NUMBER_NOT_FOUND"
# Answers that concern the whole list or sender code, not one contact: the run stops.
FATAL = frozenset({"ERROR_SENDER_CODE_DISABLED", "ERROR_LIST_INACTIVE", "ERROR_INVALID_LIST_ID"})


class StopSync(StepStopped):
    """Listrak refused something that no retry of single contacts can fix (a disabled sender
    code, an inactive list, refused credentials); the run stops and says why.
    :func:`run_concurrently` fills ``finished`` with the calls done before it stopped."""


@dataclass(frozen=True)
class Addition:
    phone: str
    exists: bool  # known to exist on the sender code: subscribe first
    values: tuple[SmsContactField, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """One contact's result, in the engine's terms (``effect``) and Listrak's (``result``).

    ``needs_attributes``: an existing contact was subscribed (or made pending), so its
    attributes still have to be written (in bulk, by the step's contact update import).
    ``exists``: the contact is known to exist on the sender code (a later addition subscribes)."""

    key: str
    effect: str  # added | applied | declined | failed | absent
    result: str
    reason: str | None = None
    needs_attributes: bool = False
    exists: bool = False
    field: str | None = None  # the field a refusal is about


def _refusal(phone: str, exc: ListrakError, *, exists: bool = False) -> Outcome:
    code = exc.code or type(exc).__name__
    if isinstance(exc, AuthError):
        # The credentials, not the list: a paused integration, a changed secret, a credential
        # of another kind of integration.
        raise StopSync(f"Listrak stopped accepting this SMS integration's requests: {exc}") from exc
    if code in FATAL or isinstance(exc, ConfigurationError):
        raise StopSync(f"Listrak refused the SMS list: {exc}") from exc
    # Permanent refusals are declined (not sent again until the row changes); anything else
    # is recorded with its code and tried again on the next run. One table for email and SMS.
    refusal = classify(code, exc.message)
    return Outcome(
        phone,
        refusal.effect.value,
        refusal.outcome if refusal.permanent else code,
        refusal.reason,
        exists=exists,
        field=ADDRESS["sms"] if refusal.about_address else None,
    )


def _subscribed(phone: str, target: SmsTarget, *, existing: bool, owned: bool) -> Outcome:
    if target.pending_on_subscribe:
        return Outcome(
            phone,
            "declined",
            "pending",
            "the list requires double opt-in or an age gate; the contact must confirm",
            needs_attributes=existing,
            exists=True,
        )
    return Outcome(
        phone,
        "added" if owned else "applied",
        "subscribed" if owned else "already_subscribed",
        needs_attributes=existing,
        exists=True,
    )


async def _subscribe(sms: SmsApi, target: SmsTarget, phone: str) -> SubscribeOutcome:
    return await sms.subscribe(target.sender_code_id, phone, target.list_id)


async def add_contact(sms: SmsApi, target: SmsTarget, addition: Addition) -> Outcome:
    """Subscribe an existing contact or create a new one, falling back on the API's answer."""
    phone = addition.phone
    if addition.exists:
        try:
            answer = await _subscribe(sms, target, phone)
        except ListrakError as exc:
            if exc.code != NOT_FOUND:
                return _refusal(phone, exc, exists=True)
            # Stale knowledge: the contact is gone from the sender code. Create it.
        else:
            return _subscribed(
                phone, target, existing=True, owned=answer is SubscribeOutcome.SUBSCRIBED
            )
    contact = SmsContact(
        phone_number=phone, segmentation_field_values=list(addition.values) or None
    )
    try:
        created = await sms.create_contact(target.sender_code_id, target.list_id, contact)
    except ListrakError as exc:
        return _refusal(phone, exc)
    if created is CreateOutcome.CREATED:
        return _subscribed(phone, target, existing=False, owned=True)
    # ERROR_PHONE_NUMBER_FOUND: it existed after all (or an earlier attempt of this very call
    # worked and its answer was lost). Subscribe it; its attributes go by import.
    try:
        answer = await _subscribe(sms, target, phone)
    except ListrakError as exc:
        return _refusal(phone, exc, exists=True)
    return _subscribed(phone, target, existing=True, owned=answer is SubscribeOutcome.SUBSCRIBED)


async def remove_contact(sms: SmsApi, target: SmsTarget, phone: str) -> Outcome:
    """Unsubscribe from the list; "not subscribed" and "not found" mean it is already done."""
    try:
        answer = await sms.unsubscribe(target.sender_code_id, phone, target.list_id)
    except ListrakError as exc:
        if exc.code == NOT_FOUND:
            return Outcome(phone, "absent", "not_found")
        return _refusal(phone, exc)
    return Outcome(phone, "absent", str(answer))


T = TypeVar("T")
R = TypeVar("R")


async def run_concurrently(
    items: Sequence[T],
    call: Callable[[T], Awaitable[R]],
    *,
    concurrency: int,
    on_done: Callable[[int], None] | None = None,
) -> list[R]:
    """``call`` for every item with at most ``concurrency`` in flight; results in item order.

    A fixed pool of workers takes items from a shared position, so 100,000 contacts never
    become 100,000 pending tasks. The first exception (a ``StopSync``) cancels the rest."""
    results: list[R | None] = [None] * len(items)
    position = 0

    async def worker() -> None:
        nonlocal position
        while position < len(items):
            index = position
            position += 1
            results[index] = await call(items[index])
            if on_done is not None:
                on_done(1)

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(max(1, min(concurrency, len(items)))):
                group.create_task(worker())
    except BaseExceptionGroup as failed:
        first = failed.exceptions[0]
        if isinstance(first, StopSync):
            first.finished = [r for r in results if r is not None]
        raise first from None
    return [r for r in results if r is not None]
