"""Reading Segment HTTP Tracking API requests: write-key auth and message validation.

Validation follows the Segment spec's required members: every message has a ``userId`` or an
``anonymousId``; ``track`` has a non-empty ``event``; ``properties``, ``traits``, ``context``
and ``integrations`` are objects; ``timestamp`` and ``sentAt`` are ISO-8601 dates. A request
with any invalid message is refused as a whole with every problem listed (nothing is stored),
so the sender learns about all of them at once and no part of a batch is half-accepted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import random
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ..errors import ListrakSyncError
from .queue import compact_json

__all__ = [
    "MAX_DEPTH",
    "MESSAGE_TYPES",
    "IntakeError",
    "hash_write_key",
    "key_from_basic",
    "key_matches",
    "messages_from",
    "parse_json",
]

MESSAGE_TYPES = ("track", "identify", "page", "screen", "group", "alias")
# Segment messages nest a few levels (context.traits.address...); deeper bodies are refused.
MAX_DEPTH = 64
_OBJECTS = ("properties", "traits", "context", "integrations")
_DATES = ("timestamp", "sentAt", "originalTimestamp")
_ids = random.Random()  # seeded from the system's randomness


class IntakeError(ListrakSyncError):
    """A refused request: HTTP status and a message naming every problem."""

    def __init__(self, status: int, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.problems = problems or []

    def body(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"success": False, "error": self.message}
        if self.problems:
            doc["problems"] = self.problems
        return doc


def hash_write_key(key: str) -> str:
    """The form write keys are configured and kept in: ``sha256:<hex>``."""
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_matches(key: str, hashes: Iterable[str]) -> bool:
    candidate = hash_write_key(key)
    # Compare against every hash, in constant time each, so timing tells nothing.
    found = False
    for known in hashes:
        found |= hmac.compare_digest(candidate, known)
    return found


def key_from_basic(header: str) -> str | None:
    """The write key of an ``Authorization: Basic base64(key:)`` header, or None."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    key = decoded.partition(":")[0]
    return key or None


def _deeper_than(doc: Any, limit: int) -> bool:
    """Whether arrays and objects in ``doc`` nest more than ``limit`` levels (iteratively: the
    check itself must not recurse). One level at a time, a list comprehension per container:
    this runs over every value of every request."""
    level: list[Any] = [doc]
    depth = 1
    while level:
        if depth > limit:
            return True
        deeper: list[Any] = []
        for node in level:
            values = node.values() if type(node) is dict else node
            deeper.extend([child for child in values if isinstance(child, dict | list)])
        level = deeper
        depth += 1
    return False


def _too_deep(max_depth: int) -> IntakeError:
    return IntakeError(400, f"the body nests arrays and objects deeper than {max_depth} levels")


def parse_json(raw: bytes, *, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    try:
        doc = json.loads(raw)
    except RecursionError:
        # Python's parser recurses once per level and gives up near the interpreter's
        # recursion limit: a few KB of brackets get here, and are refused like any deep body.
        raise _too_deep(max_depth) from None
    except UnicodeDecodeError:
        raise IntakeError(400, "the body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise IntakeError(
            400, f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(doc, dict):
        raise IntakeError(400, "the body must be a JSON object")
    if _deeper_than(doc, max_depth):
        raise _too_deep(max_depth)
    return doc


def _is_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return True


def _check(message: dict[str, Any], where: str) -> list[str]:
    problems: list[str] = []
    kind = message.get("type")
    if kind not in MESSAGE_TYPES:
        problems.append(f"{where}type: one of {', '.join(MESSAGE_TYPES)} (got {kind!r})")
    user, anonymous = message.get("userId"), message.get("anonymousId")
    if user in (None, "") and anonymous in (None, ""):
        problems.append(f"{where}userId or anonymousId is required")
    for name, value in (("userId", user), ("anonymousId", anonymous)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, str | int)):
            problems.append(f"{where}{name}: a string")
    if kind == "track":
        event = message.get("event")
        if not isinstance(event, str) or not event.strip():
            problems.append(f"{where}event: a non-empty string is required for track")
    for name in _OBJECTS:
        if name in message and message[name] is not None and not isinstance(message[name], dict):
            problems.append(f"{where}{name}: an object")
    for name in _DATES:
        if message.get(name) is not None and not _is_date(message[name]):
            problems.append(f"{where}{name}: an ISO-8601 date")
    if message.get("messageId") is not None and not isinstance(message["messageId"], str):
        problems.append(f"{where}messageId: a string")
    return problems


def _encoded_size(value: Any) -> int:
    """Bytes of ``value`` as compact UTF-8 JSON (how an event is measured against the limit)."""
    text = compact_json(value)
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _oversized(messages: list[dict[str, Any]], limit: int) -> list[int]:
    """Indexes of the messages larger than ``limit`` bytes. Each message's encoding is a part
    of the whole list's, so when the list fits, every message does: one encoding per request
    instead of one per event, unless some message may be too large."""
    if _encoded_size(messages) <= limit:
        return []
    return [i for i, message in enumerate(messages) if _encoded_size(message) > limit]


def _message_id() -> str:
    """A random (version 4) UUID, from a generator seeded by the system: an id, not a secret,
    so no system call per event (and no ``uuid.UUID`` object, a few µs each)."""
    bits = _ids.getrandbits(128) & ~(0xF000 << 64) & ~(0xC000 << 48) | (0x4000 << 64) | (1 << 63)
    text = f"{bits:032x}"
    return f"ls-{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def messages_from(
    doc: dict[str, Any], kind: str | None, *, max_event_bytes: int
) -> list[dict[str, Any]]:
    """The messages of a request: one for ``track``/``identify`` (``kind``), the ``batch``
    array's for ``kind=None``. IntakeError (400) lists every problem."""
    if kind is not None:
        messages = [{**doc, "type": kind}]
        prefixes = [""]
    else:
        batch = doc.get("batch")
        if not isinstance(batch, list) or not batch:
            raise IntakeError(400, "batch: a non-empty array of messages is required")
        if not all(isinstance(item, dict) for item in batch):
            bad = [i for i, item in enumerate(batch) if not isinstance(item, dict)]
            raise IntakeError(400, f"batch[{bad[0]}]: each message must be a JSON object")
        shared = doc.get("context") if isinstance(doc.get("context"), dict) else None
        messages = []
        for item in batch:
            if shared is not None and isinstance(item.get("context", {}), dict):
                item = {**item, "context": {**shared, **(item.get("context") or {})}}
            messages.append(item)
        prefixes = [f"batch[{i}]." for i in range(len(batch))]
    oversized = set(_oversized(messages, max_event_bytes)) if kind is None else set()
    problems: list[str] = []
    for i, (message, where) in enumerate(zip(messages, prefixes, strict=True)):
        problems.extend(_check(message, where))
        if i in oversized:
            problems.append(f"{where[:-1]}: larger than {max_event_bytes} bytes")
    if problems:
        raise IntakeError(400, f"{len(problems)} problem(s) in the request", problems)
    for message in messages:
        message.pop("writeKey", None)  # a credential: never stored
        if message.get("messageId") is None:
            message["messageId"] = _message_id()
    return messages
