"""Sender codes: ``GET /ShortCode`` and ``GET /ShortCode/{senderCodeId}``, and the lookups
every other SMS route starts with."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
from starlette.requests import Request
from starlette.responses import Response

from ..errors import ListrakHTTPError
from ..parsing import path_int
from ..responses import collection, resource
from ..routing import OperationTable
from ..state import Client, EmulatorState
from .catalog import CachedTable, cached

__all__ = [
    "SenderCode",
    "find_sender_code",
    "install_sender_codes",
    "now",
    "seed_sender_code",
    "sender_codes",
]

_OWN_COLUMNS = {"shortCodeId", "code", "country", "disabled"}


@dataclass(frozen=True)
class SenderCode:
    sender_code_id: int
    code: str
    country: str
    disabled: bool
    settings: dict[str, Any]

    def resource(self) -> dict[str, Any]:
        return {
            "shortCodeId": self.sender_code_id,
            "code": self.code,
            "country": self.country,
            **self.settings,
        }

    def require_enabled(self) -> None:
        """Writes on a disabled sender code are refused, as Listrak does."""
        if self.disabled:
            raise ListrakHTTPError(
                400,
                "ERROR_SENDER_CODE_DISABLED",
                f"The sender code {self.sender_code_id} is disabled.",
            )


def now(state: EmulatorState) -> datetime:
    """The emulator's clock as a naive UTC timestamp (how the tables store time)."""
    return datetime.fromtimestamp(state.clock(), UTC).replace(tzinfo=None)


def _from_row(row: tuple[Any, ...]) -> SenderCode:
    sender_code_id, code, country, disabled, settings = row
    return SenderCode(sender_code_id, code, country, disabled, json.loads(settings))


def _load(cur: duckdb.DuckDBPyConnection) -> dict[int, SenderCode]:
    rows = cur.execute("SELECT * FROM sms_sender_code ORDER BY sender_code_id").fetchall()
    return {row[0]: _from_row(row) for row in rows}


_SENDER_CODES = CachedTable("sms_sender_code", _load)


def sender_codes(state: EmulatorState) -> Mapping[int, SenderCode]:
    """Every sender code by id, in id order (from the catalog copy, see ``catalog.py``)."""
    return cached(state, _SENDER_CODES)


def find_sender_code(state: EmulatorState, request: Request) -> SenderCode:
    """The route's sender code, or the 404 Listrak answers for an unknown ``senderCodeId``."""
    found = sender_codes(state).get(path_int(request, "senderCodeId"))
    if found is None:
        raise ListrakHTTPError.not_found("senderCodeId")
    return found


def seed_sender_code(state: EmulatorState, doc: dict[str, Any]) -> int:
    """Create a sender code from a seed entry (a SenderCode resource plus ``disabled``)."""
    settings = {key: value for key, value in doc.items() if key not in _OWN_COLUMNS}
    settings.setdefault("merchantName", "Emulated Merchant")
    values = [
        str(doc.get("code", "")) or "00000",
        str(doc.get("country", "US")).upper(),
        bool(doc.get("disabled", False)),
        json.dumps(settings),
    ]
    if "shortCodeId" in doc:
        state.db.execute(
            "INSERT INTO sms_sender_code VALUES (?, ?, ?, ?, ?)", [int(doc["shortCodeId"]), *values]
        )
        return int(doc["shortCodeId"])
    row = state.db.execute(
        "INSERT INTO sms_sender_code (code, country, disabled, settings) VALUES (?, ?, ?, ?) "
        "RETURNING sender_code_id",
        values,
    ).fetchone()
    assert row is not None
    return int(row[0])


def install_sender_codes(state: EmulatorState, table: OperationTable) -> None:
    @table.operation("GET", "/sms/v1/ShortCode", "SenderCode_GetShortCodeCollection", "sms")
    async def get_sender_codes(request: Request, client: Client) -> Response:
        return collection([sender.resource() for sender in sender_codes(state).values()])

    @table.operation(
        "GET", "/sms/v1/ShortCode/{senderCodeId}", "SenderCode_GetShortCodeResource", "sms"
    )
    async def get_sender_code(request: Request, client: Client) -> Response:
        return resource(find_sender_code(state, request).resource())
