"""Sender codes: ``GET /ShortCode`` and ``GET /ShortCode/{senderCodeId}``, and the lookups
every other SMS route starts with."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..errors import ListrakHTTPError
from ..parsing import path_int
from ..responses import collection, resource
from ..routing import OperationTable
from ..state import Client, EmulatorState

__all__ = ["SenderCode", "find_sender_code", "install_sender_codes", "now", "seed_sender_code"]

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


def find_sender_code(state: EmulatorState, request: Request) -> SenderCode:
    """The route's sender code, or the 404 Listrak answers for an unknown ``senderCodeId``."""
    sender_code_id = path_int(request, "senderCodeId")
    with state.cursor() as cur:
        row = cur.execute(
            "SELECT * FROM sms_sender_code WHERE sender_code_id = ?", [sender_code_id]
        ).fetchone()
    if row is None:
        raise ListrakHTTPError.not_found("senderCodeId")
    return _from_row(row)


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
        with state.cursor() as cur:
            rows = cur.execute("SELECT * FROM sms_sender_code ORDER BY 1").fetchall()
        return collection([_from_row(row).resource() for row in rows])

    @table.operation(
        "GET", "/sms/v1/ShortCode/{senderCodeId}", "SenderCode_GetShortCodeResource", "sms"
    )
    async def get_sender_code(request: Request, client: Client) -> Response:
        return resource(find_sender_code(state, request).resource())
