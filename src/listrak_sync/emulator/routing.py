"""Declaring Listrak operations: one decorator gives each handler auth, counting and errors.

``operation("GET", "/email/v1/List/{listId}", "List_GetListResourceById", "email")`` registers a
handler under the spec's operationId. The registry is what the conformance test compares with the
specs to list implemented and unimplemented operations.

Before a handler runs, the request has passed everything the spec can say about it: the bearer
token, Beta access, path and query parameters (typed, read them with :func:`params`) and the JSON
body (read it with :func:`body`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import ListrakHTTPError, error_response
from .parameters import canonical_query, check_parameters
from .parsing import json_body
from .spec import spec_operations, validate_body

if TYPE_CHECKING:
    from .state import Client, EmulatorState, Integration

__all__ = ["Handler", "Operation", "OperationTable", "authorize", "body", "params"]

Handler = Callable[[Request, "Client"], Awaitable[Response]]

log = logging.getLogger(__name__)

_UNAUTHORIZED = "Authorization was denied for this request."


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # full path as served, e.g. /email/v1/List/{listId}
    operation_id: str
    integration: Integration
    handler: Handler
    beta: bool = False


def authorize(state: EmulatorState, request: Request, integration: Integration) -> Client:
    """The client behind the bearer token, or a 401 exactly like Listrak's."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ListrakHTTPError(401, "ERROR_UNAUTHORIZED", _UNAUTHORIZED)
    client = state.client_for_token(token.strip())
    if client is None or client.paused or client.integration != integration:
        raise ListrakHTTPError(401, "ERROR_UNAUTHORIZED", _UNAUTHORIZED)
    return client


class OperationTable:
    """The operations an API module implements, turned into Starlette routes."""

    def __init__(self) -> None:
        self.operations: list[Operation] = []

    def operation(
        self,
        method: str,
        path: str,
        operation_id: str,
        integration: Integration,
        *,
        beta: bool = False,
    ) -> Callable[[Handler], Handler]:
        spec = spec_operations(integration).get(operation_id)
        if spec is None or spec.method != method.upper() or spec.path != path:
            raise ValueError(f"{method} {path} is not {operation_id} in the {integration} spec")

        def register(handler: Handler) -> Handler:
            self.operations.append(
                Operation(method.upper(), path, operation_id, integration, handler, beta)
            )
            return handler

        return register

    def routes(self, state: EmulatorState) -> list[Route]:
        # Starlette matches the first route whose path fits, then checks the method; group
        # methods per path so a wrong method on a known path answers 405, not 404.
        by_path: dict[str, list[Operation]] = {}
        for op in self.operations:
            by_path.setdefault(op.path, []).append(op)
        # Literal segments must win over parameters (".../Contact/SegmentationField" before
        # ".../Contact/{contactIdentifier}"), so sort paths with fewer parameters first.
        ordered = sorted(by_path.items(), key=lambda item: item[0].count("{"))
        return [
            Route(
                path,
                _dispatch(state, {op.method: op for op in ops}),
                methods=list({op.method for op in ops}),
            )
            for path, ops in ordered
        ]


def body(request: Request) -> Any:
    """The request's JSON body, already parsed and checked against the spec's schema."""
    return request.state.body


def params(request: Request) -> dict[str, Any]:
    """The operation's path and query parameters, typed and checked against the spec.

    Every declared parameter is present: absent query parameters hold the spec's documented
    default (``count`` is 1000, ``subscriptionState`` is ``"Subscribed"``) or None.
    """
    values: dict[str, Any] = request.state.params
    return values


def _dispatch(
    state: EmulatorState, by_method: dict[str, Operation]
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        op = by_method[request.method]
        state.request_counts[op.operation_id] += 1
        try:
            state.run_request_hooks()
            client = authorize(state, request, op.integration)
            if op.beta and not client.beta_access:
                raise ListrakHTTPError(
                    400,
                    "ERROR_INTEGRATION_CANNOT_ACCESS_BETA_ROUTE",
                    "This route is in Beta and not yet generally available for all integrations.",
                )
            # Rewritten before anything reads request.query_params (Starlette caches it).
            query = canonical_query(
                op.integration,
                op.operation_id,
                QueryParams(request.scope["query_string"]).multi_items(),
            )
            request.scope["query_string"] = urlencode(query).encode("latin-1")
            request.state.params = check_parameters(
                op.integration, op.operation_id, request.path_params, request.query_params
            )
            spec = spec_operations(op.integration)[op.operation_id]
            if spec.body_schema is not None:
                request.state.body = validate_body(
                    op.integration, op.operation_id, await json_body(request)
                )
                # Again once the body is in: the integration may have been paused (or the token
                # expired) meanwhile, and a one-at-a-time server decides on the request as a
                # whole when it takes it. From here to the handler's decision nothing waits, so
                # no request arriving later is decided or answered first (answers.py).
                client = authorize(state, request, op.integration)
            return await op.handler(request, client)
        except ListrakHTTPError as exc:
            return exc.response()
        except Exception:
            # Answered here rather than by Starlette's last-resort handler, which re-raises after
            # answering and so makes uvicorn drop the keep-alive connection: Listrak answers 500
            # and the client's next request on the same connection must still work.
            log.exception("unhandled error in %s %s", request.method, request.url.path)
            return error_response(
                500,
                "ERROR_UNHANDLED_EXCEPTION",
                "An unexpected error occurred. Our development team has been notified.",
            )

    return endpoint
