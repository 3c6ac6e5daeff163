"""The realism switch: answer in the spec's tidy form (``strict``) or as recorded (``realistic``).

Both modes follow the recorded real traffic wherever it decides a status, an id or a value (see
``docs/reference/emulator.md``). What the switch changes is presentation the client must
tolerate but the spec does not show:

=====================  ==================================  =========================================
point                  strict                              realistic
=====================  ==================================  =========================================
timestamps             whole seconds                       fractional seconds when non-zero, .NET
                                                           style (``2015-08-31T16:02:41.65``)
empty members          left out                            explicit ``null``; List objects carry
                                                           every member (``""``, ``[]``, ``false``)
429                    ``ERROR_TOO_MANY_REQUESTS`` and     no Listrak code, no ``Retry-After``
                       ``Retry-After``
JSON Content-Type      ``application/json; charset=utf-8`` that, ``application/json;charset=UTF-8``
                                                           or ``application/json``, at random
=====================  ==================================  =========================================

The mode is per emulator (``EmulatorState.realism``, changed at run time through the admin
surface) and read per request through a context variable, so the response helpers
(:mod:`.responses`) need no state argument.
``LISTRAK_EMULATOR_REALISM`` sets the default, which is how the test suite runs twice.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from contextvars import ContextVar
from typing import Literal, cast, get_args

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "REALISM_ENV",
    "JsonContentTypes",
    "Realism",
    "RealismMiddleware",
    "current_realism",
    "realism_from_env",
    "realistic",
]

Realism = Literal["strict", "realistic"]
REALISM_ENV = "LISTRAK_EMULATOR_REALISM"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"  # recorded on every API answer
TOKEN_CONTENT_TYPE = "application/json;charset=UTF-8"  # recorded on the token endpoint
# What a realistic emulator picks from for each JSON answer: the recorded spellings and none.
JsonContentTypes = (JSON_CONTENT_TYPE, TOKEN_CONTENT_TYPE, "application/json")

_current: ContextVar[Realism] = ContextVar("listrak_emulator_realism", default="strict")


def realism_from_env() -> Realism:
    """The mode ``LISTRAK_EMULATOR_REALISM`` names (``strict`` when unset); a typo is an error."""
    value = os.environ.get(REALISM_ENV, "").strip().lower() or "strict"
    if value not in get_args(Realism):
        raise ValueError(f"{REALISM_ENV}={value!r}: use strict or realistic")
    return cast(Realism, value)


def current_realism() -> Realism:
    """The mode of the request being answered."""
    return _current.get()


def realistic() -> bool:
    return _current.get() == "realistic"


class RealismMiddleware:
    """Sets the request's mode, and gives Listrak's JSON answers their recorded Content-Type.

    The admin surface (``admin_prefix``) is the emulator's own and keeps plain JSON.
    """

    def __init__(
        self,
        app: ASGIApp,
        mode: Callable[[], Realism],
        *,
        admin_prefix: str,
        seed: int | None = None,
    ) -> None:
        self.app = app
        self.mode = mode
        self.admin_prefix = admin_prefix
        self._random = random.Random(seed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.admin_prefix):
            await self.app(scope, receive, send)
            return
        mode = self.mode()
        token = _current.set(mode)
        chosen = self._random.choice(JsonContentTypes) if mode == "realistic" else JSON_CONTENT_TYPE

        async def send_with_charset(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (name, chosen.encode("latin-1"))
                    if name == b"content-type" and value == b"application/json"
                    else (name, value)
                    for name, value in message.get("headers", [])
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_charset)
        finally:
            _current.reset(token)
