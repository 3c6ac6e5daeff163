"""``POST /privacy/v1/Forget`` and ``GET /privacy/v1/Forget/{requestId}``.

The spec says a forget request is "queued" and its status is ``PROCESSING`` or ``COMPLETE``,
with ``processedDate`` null until complete. The emulator keeps each request ``PROCESSING`` for
``processingSeconds`` (seed ``privacy.processingSeconds``, default 2) of the emulator's clock,
then applies it: every email contact with that address (on every list, with its profile field
values, message activity and link clicks) and every SMS contact with that number (on every
sender code and list, with its profile) is deleted, as is every SMS profile carrying that email
address. Due requests are
applied before any Listrak route answers, so no read ever returns a forgotten contact after the
request is complete.

Beyond the schema (where both members are optional), a request needs an email address or a
phone number, each well formed; the spec documents only ``ERROR_INVALID_PARAMETER`` for these.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..email.addresses import is_valid_email, now
from ..errors import ListrakHTTPError, error_response
from ..responses import created, listrak_time, resource
from ..routing import OperationTable, body, params
from ..sms.phones import normalize_phone
from ..state import Client, EmulatorState
from .limits import PrivacyLimiter

__all__ = [
    "SCHEMA",
    "apply_due",
    "dump_privacy",
    "install_requests",
    "limiter",
    "reset_privacy",
    "set_delay",
    "start_privacy",
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS privacy_forget_request (
    request_id VARCHAR PRIMARY KEY,
    client_id VARCHAR NOT NULL,
    email_lower VARCHAR,
    phone VARCHAR,
    submitted_date TIMESTAMP NOT NULL,
    processed_date TIMESTAMP
);
CREATE TABLE IF NOT EXISTS privacy_settings (name VARCHAR PRIMARY KEY, value DOUBLE NOT NULL);
"""
DEFAULT_DELAY = 2.0
# A number without a country code is read as a US number, as Listrak's US sender codes do.
_DEFAULT_COUNTRY = "US"
_LIMITERS: dict[int, PrivacyLimiter] = {}
# Whether a state may hold unprocessed requests: every Listrak request checks this, so the
# common case (nothing pending) costs a dictionary lookup rather than a DuckDB statement.
_PENDING: dict[int, bool] = {}


def limiter(state: EmulatorState) -> PrivacyLimiter:
    return _LIMITERS.setdefault(id(state), PrivacyLimiter())


def set_delay(state: EmulatorState, seconds: float) -> None:
    if seconds < 0:
        raise ValueError("privacy.processingSeconds must be 0 or more")
    state.db.execute(
        "INSERT OR REPLACE INTO privacy_settings VALUES ('processing_seconds', ?)", [seconds]
    )


def _delay(state: EmulatorState) -> float:
    row = state.db.execute(
        "SELECT value FROM privacy_settings WHERE name = 'processing_seconds'"
    ).fetchone()
    return DEFAULT_DELAY if row is None else float(row[0])


def apply_due(state: EmulatorState) -> int:
    """Apply every request whose processing time has passed; returns how many."""
    if not _PENDING.get(id(state), True):
        return 0
    with state.lock:
        current = now(state)
        cutoff = current - timedelta(seconds=_delay(state))
        due = state.db.execute(
            "SELECT request_id, email_lower, phone FROM privacy_forget_request "
            "WHERE processed_date IS NULL AND submitted_date <= ? ORDER BY submitted_date",
            [cutoff],
        ).fetchall()
        for request_id, email, phone in due:
            _forget(state, email, phone)
            state.db.execute(
                "UPDATE privacy_forget_request SET processed_date = ? WHERE request_id = ?",
                [current, request_id],
            )
        left = state.db.execute(
            "SELECT count(*) FROM privacy_forget_request WHERE processed_date IS NULL"
        ).fetchone()
        _PENDING[id(state)] = bool(left and left[0])
        return len(due)


def _forget(state: EmulatorState, email: str | None, phone: str | None) -> None:
    db = state.db
    phones = {phone} if phone else set()
    if email:
        db.execute(
            "DELETE FROM email_field_value WHERE (list_id, contact_id) IN "
            "(SELECT list_id, contact_id FROM email_contact WHERE email_lower = ?)",
            [email],
        )
        db.execute("DELETE FROM email_contact WHERE email_lower = ?", [email])
        # Their message activity is personal data too: later activity reads omit them.
        db.execute("DELETE FROM email_message_activity WHERE email_lower = ?", [email])
        db.execute("DELETE FROM email_link_click WHERE lower(email) = ?", [email])
        rows = db.execute(
            "SELECT phone FROM sms_person WHERE lower(email_address) = ?", [email]
        ).fetchall()
        phones.update(row[0] for row in rows)
    for number in phones:
        for table in ("sms_subscription", "sms_contact", "sms_field_value", "sms_person"):
            db.execute(f"DELETE FROM {table} WHERE phone = ?", [number])


def _request(row: tuple[Any, ...]) -> dict[str, Any]:
    request_id, submitted, processed = row
    return {
        "requestID": request_id,
        "status": "PROCESSING" if processed is None else "COMPLETE",
        "submittedDate": listrak_time(submitted),
        "processedDate": listrak_time(processed),
    }


def _limited(state: EmulatorState, client: Client) -> Response | None:
    wait = limiter(state).take(client.client_id, state.clock())
    if wait is None:
        return None
    return error_response(
        429,
        "ERROR_TOO_MANY_REQUESTS",
        "The rate limit for this integration was exceeded.",
        headers={"Retry-After": str(wait)},
    )


def _identifiers(doc: dict[str, Any]) -> tuple[str | None, str | None]:
    raw_email = doc.get("emailAddress")
    raw_phone = doc.get("phoneNumber")
    email = raw_email.strip().lower() if isinstance(raw_email, str) and raw_email.strip() else None
    phone_text = raw_phone.strip() if isinstance(raw_phone, str) and raw_phone.strip() else None
    if email is None and phone_text is None:
        raise ListrakHTTPError.invalid_parameter(
            "parameters", "An emailAddress or a phoneNumber is required."
        )
    if email is not None and not is_valid_email(email):
        raise ListrakHTTPError.invalid_parameter("emailAddress")
    phone = None
    if phone_text is not None:
        phone = normalize_phone(phone_text, _DEFAULT_COUNTRY)
        if phone is None:
            raise ListrakHTTPError.invalid_parameter("phoneNumber")
    return email, phone


def install_requests(state: EmulatorState, table: OperationTable) -> None:
    @table.operation("POST", "/privacy/v1/Forget", "Forget_PostForgetRequest", "privacy")
    async def post_forget(request: Request, client: Client) -> Response:
        refused = _limited(state, client)
        if refused is not None:
            return refused
        doc = body(request)
        email, phone = _identifiers(doc if isinstance(doc, dict) else {})
        request_id = str(uuid.uuid4())
        with state.lock:
            state.db.execute(
                "INSERT INTO privacy_forget_request VALUES (?, ?, ?, ?, ?, NULL)",
                [request_id, client.client_id, email, phone, now(state)],
            )
            _PENDING[id(state)] = True
        apply_due(state)  # a delay of 0 completes at once
        return created(request_id)

    @table.operation("GET", "/privacy/v1/Forget/{requestId}", "Forget_GetForgetRequest", "privacy")
    async def get_forget(request: Request, client: Client) -> Response:
        refused = _limited(state, client)
        if refused is not None:
            return refused
        apply_due(state)
        row = state.db.execute(
            "SELECT request_id, submitted_date, processed_date FROM privacy_forget_request "
            "WHERE request_id = ? AND client_id = ?",
            [str(params(request)["requestId"]), client.client_id],
        ).fetchone()
        if row is None:
            raise ListrakHTTPError(
                404,
                "ERROR_UNABLE_TO_LOCATE_RESOURCE",
                "Unable to locate a resource associated with the requestId supplied.",
            )
        return resource(_request(row))


def dump_privacy(state: EmulatorState, full: bool) -> dict[str, Any]:
    """The requests (ids, status and dates only: never the address or number)."""
    apply_due(state)
    rows = state.db.execute(
        "SELECT request_id, submitted_date, processed_date FROM privacy_forget_request "
        "ORDER BY submitted_date, request_id"
    ).fetchall()
    requests = [_request(row) for row in rows]
    dumped: dict[str, Any] = {
        "processingSeconds": _delay(state),
        "requestCount": len(requests),
        "requests": requests if full or len(requests) <= 1000 else requests[:1000],
    }
    return dumped


def start_privacy(state: EmulatorState) -> None:
    """A new app on ``state``: fresh buckets, and a look for requests a state file kept.

    Keyed by ``id(state)``, which a later state may reuse once this one is gone: starting
    replaces whatever an earlier state left under the same id."""
    _LIMITERS[id(state)] = PrivacyLimiter()
    _PENDING[id(state)] = True


def reset_privacy(state: EmulatorState) -> None:
    """After a reset: no buckets, and nothing pending."""
    limiter(state).clear()
    _PENDING[id(state)] = False
