"""The Privacy API (``/privacy/v1``): forget requests and their status.

The Privacy API publishes its limits (20 requests per 10 seconds, 60 per minute), so its
session is capped at one request per second from the start (see ``PRIVACY_RATE``): a forget
run never needs a 429 to learn the limit, and one that still comes (another process using the
same integration) is paced like any other.
"""

from __future__ import annotations

from datetime import datetime

from ._exceptions import ListrakApiError
from ._models import ForgetRequestStatus
from ._session import Replay, Session

__all__ = ["PRIVACY_RATE", "PrivacyApi"]

# 60 per minute is the tighter of the two published limits over any stretch longer than 20 s;
# at one per second the 10-second bucket (20) never fills either.
PRIVACY_RATE = 1.0


class PrivacyApi:
    """Calls of one privacy integration. Get it as ``client.privacy``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    async def forget(
        self, *, email_address: str | None = None, phone_number: str | None = None
    ) -> str:
        """Submit a forget request for an email address and/or a phone number; its request id.

        A forget request creates something Listrak cannot be asked about by address, so only
        failures that prove it was not received are retried (``Replay.IF_NOT_APPLIED``); the
        others are raised with ``maybe_applied`` for the caller's journal to decide.
        """
        if not email_address and not phone_number:
            raise ValueError("a forget request needs an email address or a phone number")
        body: dict[str, str] = {}
        if email_address:
            body["emailAddress"] = email_address
        if phone_number:
            body["phoneNumber"] = phone_number
        answer = await self.session.call(
            "POST",
            "/Forget",
            operation="Forget_PostForgetRequest",
            json_body=body,
            replay=Replay.IF_NOT_APPLIED,
        )
        resource_id = answer.get("resourceId")
        if not resource_id:
            raise ListrakApiError(
                "Listrak accepted the forget request without a request id",
                operation="Forget_PostForgetRequest",
            )
        return str(resource_id)

    async def forget_status(self, request_id: str) -> ForgetRequestStatus:
        """The status (``PROCESSING`` or ``COMPLETE``) of a submitted forget request."""
        answer = await self.session.call(
            "GET",
            f"/Forget/{request_id}",
            operation="Forget_GetForgetRequest",
            replay=Replay.ALWAYS,
        )
        data = answer.get("data") or {}
        return ForgetRequestStatus(
            request_id=str(data.get("requestID") or request_id),
            status=str(data.get("status") or ""),
            submitted_date=_when(data.get("submittedDate")),
            processed_date=_when(data.get("processedDate")),
        )


def _when(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
