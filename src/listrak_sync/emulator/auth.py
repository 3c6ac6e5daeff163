"""``POST /OAuth2/Token``: Listrak's client-credentials token endpoint.

The specs describe the request (form-encoded ``grant_type=client_credentials``, ``client_id``,
``client_secret``) and the answer (``access_token``, ``token_type``, ``expires_in``) but not its
errors. The emulator answers those as RFC 6749 section 5.2 does: 400 ``unsupported_grant_type``
or ``invalid_request``, 401 ``invalid_client`` for unknown or wrong credentials and for a paused
integration ("all requests will be rejected while your API access is paused, including requests
to issue tokens").
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from .state import EmulatorState

__all__ = ["token_route"]


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={"Cache-Control": "no-store"},
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
            return _oauth_error(401, "invalid_client", "Invalid client credentials.")
        if client.paused:
            return _oauth_error(401, "invalid_client", "API access for this integration is paused.")
        issued = state.issue_token(client)
        return JSONResponse(
            {
                "access_token": issued.access_token,
                "token_type": "Bearer",
                "expires_in": round(issued.expires_at - state.clock()),
            },
            headers={"Cache-Control": "no-store"},
        )

    return Route("/OAuth2/Token", token, methods=["POST"])
