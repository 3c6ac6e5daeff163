"""``POST /OAuth2/Token``: Listrak's client-credentials token endpoint.

The specs describe the request (form-encoded ``grant_type=client_credentials``, ``client_id``,
``client_secret``) and the answer (``access_token``, ``token_type``, ``expires_in``) but not its
errors. Wrong or unknown credentials answer as recorded against the live API:
``400 {"error":"Invalid Credentials"}`` (not RFC 6749's 401 ``invalid_client``). The rest follows
RFC 6749 section 5.2, unverified: 400 ``unsupported_grant_type`` or ``invalid_request``, and 401
``invalid_client`` for a paused integration ("all requests will be rejected while your API access
is paused, including requests to issue tokens"). The answer is as recorded too: ``token_type``
``bearer``, ``expires_in`` one second under the lifetime (3599), and
``application/json;charset=UTF-8``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .realism import TOKEN_CONTENT_TYPE

if TYPE_CHECKING:
    from .state import EmulatorState

__all__ = ["token_route"]


def _oauth_error(status: int, error: str, description: str | None = None) -> JSONResponse:
    doc = {"error": error}
    if description is not None:
        doc["error_description"] = description
    return _token_json(doc, status)


def _token_json(doc: Mapping[str, object], status: int = 200) -> JSONResponse:
    return JSONResponse(
        doc,
        status_code=status,
        headers={"Cache-Control": "no-store"},
        media_type=TOKEN_CONTENT_TYPE,
    )


def token_route(state: EmulatorState) -> Route:
    async def token(request: Request) -> Response:
        state.request_counts["OAuth2_Token"] += 1
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return _oauth_error(
                400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded."
            )
        form = parse_qs((await request.body()).decode("utf-8", "replace"))

        def field(name: str) -> str:
            values = form.get(name, [])
            return values[0] if len(values) == 1 else ""

        if field("grant_type") != "client_credentials":
            return _oauth_error(
                400, "unsupported_grant_type", "grant_type must be client_credentials."
            )
        client_id, client_secret = field("client_id"), field("client_secret")
        if not client_id or not client_secret:
            return _oauth_error(400, "invalid_request", "client_id and client_secret are required.")
        client = state.clients.get(client_id)
        if client is None or client.client_secret != client_secret:
            return _oauth_error(400, "Invalid Credentials")
        if client.paused:
            return _oauth_error(401, "invalid_client", "API access for this integration is paused.")
        issued = state.issue_token(client)
        return _token_json(
            {
                "access_token": issued.access_token,
                "token_type": "bearer",
                "expires_in": max(1, round(issued.expires_at - state.clock()) - 1),
            }
        )

    return Route("/OAuth2/Token", token, methods=["POST"])
