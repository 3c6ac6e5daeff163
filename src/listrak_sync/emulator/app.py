"""The emulator's ASGI app: auth, the emulated APIs, the admin surface, and faults around them."""

from __future__ import annotations

import asyncio
import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .admin import PREFIX, admin_routes
from .answers import Ticket
from .auth import token_route
from .errors import error_response
from .modules import ApiModule
from .realism import RealismMiddleware
from .state import EmulatorState

__all__ = [
    "FaultMiddleware",
    "RequestSizeLimit",
    "UnsafeRouteGuard",
    "create_app",
    "default_modules",
]

log = logging.getLogger(__name__)

# ASP.NET's default requestPathInvalidCharacters, checked on the decoded path as IIS does; the
# specs list ERROR_UNSAFE_ROUTE for "'&' outside of query string, '<', '>', etc.".
_UNSAFE_PATH_CHARACTERS = frozenset("<>*%&:\\?")


def default_modules() -> list[ApiModule]:
    """The APIs the emulator serves: Email, SMS, Data and Privacy."""
    from .data import module as data_module
    from .email import module as email_module
    from .privacy import module as privacy_module
    from .sms import module as sms_module

    return [email_module, sms_module, data_module, privacy_module]


def create_app(
    state: EmulatorState | None = None, modules: list[ApiModule] | None = None
) -> ASGIApp:
    """Build the emulator app around ``state`` (a fresh in-memory one by default)."""
    state = state if state is not None else EmulatorState()
    modules = modules if modules is not None else default_modules()
    tables = [module.install(state) for module in modules]
    operations = [op for table in tables for op in table.operations]
    routes = [token_route(state), *admin_routes(state, modules, operations)]
    for table in tables:
        routes.extend(table.routes(state))

    async def unknown_route(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            # Starlette names the route's methods in Allow, which RFC 9110 requires on a 405.
            return error_response(
                405,
                "ERROR_UNSUPPORTED_METHOD",
                f"The requested resource does not support http method '{request.method}'.",
                headers=dict(exc.headers or {}),
            )
        if exc.status_code == 404:
            return error_response(
                404,
                "ERROR_UNKNOWN_ROUTE",
                "No HTTP resource was found that matches the request URI.",
            )
        return error_response(exc.status_code, "ERROR_INVALID_PARAMETER", str(exc.detail))

    async def unhandled(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error in %s %s", request.method, request.url.path)
        return error_response(
            500,
            "ERROR_UNHANDLED_EXCEPTION",
            "An unexpected error occurred. Our development team has been notified.",
        )

    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: unknown_route, Exception: unhandled},
    )
    app.state.emulator = state
    app.state.modules = modules
    app.state.operations = operations
    # Faults wrap the rest: dropping a connection needs the server's own send callable.
    realism = RealismMiddleware(UnsafeRouteGuard(app), lambda: state.realism, admin_prefix=PREFIX)
    return RequestSizeLimit(FaultMiddleware(realism, state), state)


# IIS's answer to a request over its maxAllowedContentLength (sub-status 404.13), as HTML.
_IIS_TOO_LARGE = (
    "<!DOCTYPE html><html><head><title>404 - File or directory not found.</title></head>"
    "<body><h2>404 - File or directory not found.</h2><h3>The resource you are looking for "
    "might have been removed, had its name changed, or is temporarily unavailable.</h3>"
    "</body></html>"
)


class RequestSizeLimit:
    """Answers 404 with IIS's HTML page to a request whose Content-Length is over the limit.

    Listrak runs behind IIS, which refuses a request larger than its configured size with a
    404 (404.13) before the API sees it; the size is undisclosed (``max_request_bytes``).
    """

    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(PREFIX):
            for name, value in scope.get("headers", []):
                too_large = name == b"content-length" and value.isdigit()
                if too_large and int(value) > self.state.max_request_bytes:
                    # Read the body first: answering mid-upload makes clients see a reset
                    # connection instead of the 404.
                    while (await receive()).get("more_body", False):
                        pass
                    response = PlainTextResponse(
                        _IIS_TOO_LARGE, status_code=404, media_type="text/html"
                    )
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


class UnsafeRouteGuard:
    """Refuses Listrak routes whose path holds characters IIS rejects, before any routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and not path.startswith(PREFIX):
            unsafe = sorted(_UNSAFE_PATH_CHARACTERS.intersection(path))
            if unsafe:
                response = error_response(
                    400,
                    "ERROR_UNSAFE_ROUTE",
                    "A potentially dangerous value was detected in the route "
                    f"({' '.join(unsafe)}).",
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class FaultMiddleware:
    """Applies the fault rules to Listrak's routes (never to the admin surface)."""

    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        # The ticket keeps answers in arrival order while some wait for a batch (answers.py).
        ticket = self.state.answers.arrive()
        try:
            await self._answer(scope, receive, send, ticket)
        finally:
            self.state.answers.finish(ticket)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, ticket: Ticket) -> None:
        client_id = self._client_id(scope)
        decision = self.state.faults.decide(client_id, scope["method"], scope["path"])
        if decision.delay:
            await asyncio.sleep(decision.delay)
        if decision.drop == "before":
            await ticket.wait_for_earlier()
            await _drop(send)
            return
        if decision.reject_status is not None:
            bare = self.state.realism == "realistic" or decision.retry_after is None
            if decision.reject_status == 429 and bare:
                # Undocumented for Email, SMS and Data: no Listrak code, no Retry-After (always
                # so in realistic mode; a fault rule can ask for it in strict mode too).
                response: Response = PlainTextResponse("Too Many Requests", status_code=429)
            elif decision.reject_status == 429:
                response = error_response(
                    429,
                    "ERROR_TOO_MANY_REQUESTS",
                    "The rate limit for this integration was exceeded.",
                    headers={"Retry-After": str(decision.retry_after)},
                )
            else:
                response = error_response(
                    decision.reject_status,
                    "ERROR_UNHANDLED_EXCEPTION",
                    "An unexpected error occurred. Our development team has been notified.",
                )
            await ticket.wait_for_earlier()
            await response(scope, receive, send)
            return
        if decision.drop == "after":

            async def swallow(message: Message) -> None:
                return None

            await self.app(scope, receive, swallow)
            await ticket.wait_for_earlier()
            await _drop(send)
            return

        async def in_order(message: Message) -> None:
            if message["type"] == "http.response.start":
                await ticket.wait_for_earlier()
            await send(message)

        await self.app(scope, receive, in_order)

    def _client_id(self, scope: Scope) -> str | None:
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                _, _, token = value.decode("latin-1").partition(" ")
                found = self.state.tokens.get(token.strip())
                return found.client_id if found else None
        return None


async def _drop(send: Send) -> None:
    """Abort the TCP connection without an answer, as a failing load balancer would.

    ASGI has no way to say this, so the middleware reaches the server's transport through the
    ``send`` callable it was given (uvicorn's request cycle). Outside uvicorn, the request fails
    with a 502-free reset by raising, which every ASGI server turns into a broken response.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise ConnectionAbortedError("fault injection: connection dropped")
    transport.abort()
    # Let the server notice the lost connection so it does not try to answer on it.
    await asyncio.sleep(0)
    if cycle is not None and hasattr(cycle, "disconnected"):
        cycle.disconnected = True
