"""An email step done with one or two calls per contact instead of a list import.

For a small change set a list import's turnaround (upload, Listrak's queue, polling, reading the
results back) costs more than a few concurrent ``POST Contact`` calls; ``paths.py`` chooses. Both
paths leave the same contacts in the same states (docs/explanation/sync-engine.md, "Bulk or
per contact"), call by call:

- ``add``: ``POST Contact`` with ``subscriptionState: Subscribed``, ``overrideUnsubscribe``
  false and ``updateType: Update``. Listrak refuses an unsubscribed contact
  (``ERROR_UNSUBSCRIBED_EMAIL_ADDRESS``) and writes nothing: it is never re-subscribed, as the
  import's ``PreviouslyUnsubscribed``. 201 is ``Subscribed`` (the sync added it), 200
  ``AlreadySubscribed``.
- ``update``, ``flag_off``, ``own``: ``UpdateSubscribers`` touches only contacts on the list,
  but ``POST Contact`` creates missing ones, so a ``GET Contact`` comes first: absent (or
  pending) is ``SkippedNotOnList``, unsubscribed ``PreviouslyUnsubscribed``, and only a
  subscribed contact gets the POST (still ``subscriptionState: Subscribed``: a contact that
  unsubscribes between the two calls is refused, not re-subscribed).
- ``remove``: ``POST Contact`` with ``subscriptionState: Unsubscribed`` and no profile data, as
  ``RemoveSubscribers``; already unsubscribed and not on the list are the same answers.

A value its field refuses is found before sending (the import's ``SkippedInvalidValue``).

Journal: each finished contact is one line appended to ``{step}.contacts.log`` in the run's
folder with an unbuffered ``write`` (a SIGKILL loses nothing the kernel has), so a resumed run
sends only the contacts with no line. The calls in flight at a kill are sent again: every call
above is safe to repeat. A repeated ``add`` whose first answer (201) was lost reads 200 and is
recorded as already subscribed — the safe side: ``mode: mirror`` then never removes it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ...listrak import (
    AuthError,
    ConfigurationError,
    Contact,
    ListrakError,
    NotFound,
    SegmentationFieldValue,
)
from ...state import Step
from ..destination import StepResult, effect_rows
from ..errors import StepStopped
from ..sms.contacts import run_concurrently
from .fields import refused_field
from .results import effect_of
from .target import EmailTarget, known_id

if TYPE_CHECKING:
    from ..context import RunContext

__all__ = ["CONTACT_CALLS", "apply_per_contact"]

# Calls per row of each kind of step (``add`` in mirror mode may add one: the owner field).
CONTACT_CALLS = {"add": 1, "remove": 1, "update": 2, "flag_off": 2, "own": 2}

# Listrak's contact error codes -> the import result word the same row gets from an import.
_WORDS = {
    "ERROR_UNSUBSCRIBED_EMAIL_ADDRESS": "PreviouslyUnsubscribed",
    "ERROR_BANNED_EMAIL_ADDRESS": "Banned",
    "ERROR_SUPPRESSED_EMAIL": "Suppressed",
    "ERROR_NOT_SUBSCRIBED_EMAIL_ADDRESS": "SkippedNotOnList",
}
_REMOVE_WORDS = {"ERROR_UNSUBSCRIBED_EMAIL_ADDRESS": "AlreadyUnsubscribed"}
# Answers about the list or the credentials, not one contact: the step stops.
_FATAL = frozenset({"ERROR_INVALID_LIST_ID", "ERROR_LIST_INACTIVE"})


class StopContacts(StepStopped):
    """Listrak refused the list or the credentials; no single contact can fix it."""


@dataclass(frozen=True)
class _Row:
    index: int
    key: str
    values: tuple[str | None, ...]


def _word(kind: str, exc: ListrakError) -> str:
    code = exc.code or type(exc).__name__
    if isinstance(exc, AuthError | ConfigurationError) or code in _FATAL:
        raise StopContacts(f"Listrak stopped accepting this email list's calls: {exc}") from exc
    if kind == "remove" and code in _REMOVE_WORDS:
        return _REMOVE_WORDS[code]
    if code == "ERROR_INVALID_PARAMETER" and "emailAddress" in exc.message:
        return "InvalidEmail"
    if code == "ERROR_INVALID_PARAMETER" and "segmentationFieldValues" in exc.message:
        return "SkippedInvalidValue"
    return _WORDS.get(code, code)


class _Journal:
    """``{index}\\t{word}\\t{field}`` per finished contact, appended with one write each."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: dict[int, tuple[str, str]] = {}
        self.owned: set[int] = set()
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                parts = line.split("\t")
                if len(parts) != 3 or not parts[0].lstrip("o").isdigit():
                    continue  # a line torn by the kill: that contact is sent again
                if parts[0].startswith("o"):
                    self.owned.add(int(parts[0][1:]))
                else:
                    self.done[int(parts[0])] = (parts[1], parts[2])
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def record(self, index: int, word: str, field: str | None) -> None:
        os.write(self._fd, f"{index}\t{word}\t{field or ''}\n".encode())
        self.done[index] = (word, field or "")

    def record_owned(self, index: int) -> None:
        os.write(self._fd, f"o{index}\t\t\n".encode())
        self.owned.add(index)

    def close(self) -> None:
        os.close(self._fd)


async def apply_per_contact(ctx: RunContext[EmailTarget], step: Step, rows: pa.Table) -> StepResult:
    """Do ``step`` contact by contact, at the client's concurrency; resumes from its log."""
    target = ctx.target
    segment_field_id = known_id(target.segment_field_id, f"field {target.segment_field!r}")
    kind = step.kind
    email = ctx.client.email
    keys: list[str] = rows.column("key").to_pylist()
    count = len(target.fields) if kind in ("add", "update", "own") else 0
    columns = [rows.column(f"attr_{i}").to_pylist() for i in range(count)]
    journal = _Journal(ctx.workdir / f"{step.step_id}.contacts.log")
    started = time.monotonic()
    calls = 0
    try:
        todo: list[_Row] = []
        for index, key in enumerate(keys):
            if index in journal.done:
                continue
            values = tuple(column[index] for column in columns)
            refused = refused_field(list(values), target.fields) if count else None
            if refused is not None:
                journal.record(index, "SkippedInvalidValue", refused)
                continue
            todo.append(_Row(index, key, values))

        def body(row: _Row) -> Contact:
            flag = "off" if kind == "flag_off" else "on"
            given = [] if kind == "remove" else [(segment_field_id, flag)]
            if kind == "own" and target.owner_field_id is not None:
                given.append((target.owner_field_id, "on"))
            given += [
                (known_id(spec.field_id, f"field {spec.name!r}"), value or "")
                for spec, value in zip(target.fields, row.values, strict=False)
            ]
            return Contact(
                email_address=row.key,
                subscription_state="Unsubscribed" if kind == "remove" else "Subscribed",
                segmentation_field_values=[
                    SegmentationFieldValue(segmentation_field_id=f, value=v) for f, v in given
                ],
            )

        update_type = "Overwrite" if kind in ("update", "own") else "Update"

        async def one(row: _Row) -> None:
            nonlocal calls
            try:
                if kind in ("update", "flag_off", "own"):
                    calls += 1
                    try:
                        found = await email.get_contact(target.list_id, row.key)
                    except NotFound:
                        journal.record(row.index, "SkippedNotOnList", None)
                        return
                    if found.subscription_state != "Subscribed":
                        journal.record(row.index, "PreviouslyUnsubscribed", None)
                        return
                calls += 1
                created = await email.save_contact(
                    target.list_id, body(row), update_type=update_type
                )
            except ListrakError as exc:
                word = _word(kind, exc)
                field = (
                    refused_field(list(row.values), target.fields)
                    if word == "SkippedInvalidValue"
                    else None
                )
                journal.record(row.index, word, field)
                return
            if kind == "add":
                word = "Subscribed" if created else "AlreadySubscribed"
            elif kind == "remove":
                word = "Unsubscribed"
            else:
                word = "Updated"
            journal.record(row.index, word, None)

        done = 0

        def progress(finished: int) -> None:
            # A named point halfway through the calls, where resume tests kill the process.
            nonlocal done
            done += finished
            if done == len(todo) // 2:
                ctx.checkpoint(f"halfway:{step.step_id}")

        concurrency = ctx.client.settings.max_concurrency
        await run_concurrently(todo, one, concurrency=concurrency, on_done=progress)
        if kind == "add" and target.owner_field_id is not None:
            calls += await _record_owners(ctx, journal, keys, target, concurrency)
    finally:
        journal.close()
    return _result(kind, keys, journal, calls, time.monotonic() - started)


async def _record_owners(
    ctx: RunContext[EmailTarget],
    journal: _Journal,
    keys: Sequence[str],
    target: EmailTarget,
    concurrency: int,
) -> int:
    """Mode mirror: set the owner field on the contacts this step created (as the bulk path's
    ``ListFieldOwnership.record`` import does), each once."""
    assert target.owner_field_id is not None
    owner = target.owner_field_id
    email = ctx.client.email
    todo = [
        index
        for index, (word, _) in sorted(journal.done.items())
        if word == "Subscribed" and index not in journal.owned
    ]

    async def one(index: int) -> None:
        contact = Contact(
            email_address=keys[index],
            subscription_state="Subscribed",
            segmentation_field_values=[
                SegmentationFieldValue(segmentation_field_id=owner, value="on")
            ],
        )
        try:
            await email.save_contact(target.list_id, contact)
        except ListrakError as exc:
            # Unsubscribed since: the import would skip it too (UpdateSubscribers).
            _word("add", exc)
        journal.record_owned(index)

    await run_concurrently(todo, one, concurrency=concurrency)
    return len(todo)


def _result(
    kind: str, keys: list[str], journal: _Journal, calls: int, seconds: float
) -> StepResult:
    words: list[str] = []
    effects: list[str] = []
    reasons: list[str | None] = []
    fields: list[str | None] = []
    counts: dict[str, int] = {}
    for index in range(len(keys)):
        word, field = journal.done.get(index, ("NotReported", ""))
        effect = effect_of(kind, word)
        words.append(word)
        effects.append(effect.value)
        reasons.append(None)  # as the import path: the refusal table gives the reason
        fields.append(field or None)
        counts[word] = counts.get(word, 0) + 1
    summary: dict[str, Any] = {
        "path": "contacts",
        "rows": len(keys),
        "calls": calls,
        "seconds": round(seconds, 3),
        "results": dict(sorted(counts.items())),
    }
    if calls and seconds > 0:
        summary["calls_per_second"] = round(calls / seconds, 1)
    owned = len(journal.owned)
    if owned:
        summary["owned"] = owned
    return StepResult(summary, rows=effect_rows(keys, effects, words, reasons, fields))
