"""Declaring Listrak operations: one decorator gives each handler auth, counting and errors.

``operation("GET", "/email/v1/List/{listId}", "List_GetListResourceById", "email")`` registers a
handler under the spec's operationId. The registry is what the conformance test compares with the
specs to list implemented and unimplemented operations.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import ListrakHTTPError
from .parsing import json_body
from .spec import spec_operations, validate_body

if TYPE_CHECKING:
    from .state import Client, EmulatorState, Integration

__all__ = ["Handler", "Operation", "OperationTable", "authorize", "body"]

Handler = Callable[[Request, "Client"], Awaitable[Response]]

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


def _dispatch(
    state: EmulatorState, by_method: dict[str, Operation]
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        op = by_method[request.method]
        state.request_counts[op.operation_id] += 1
        try:
            client = authorize(state, request, op.integration)
            if op.beta and not client.beta_access:
                raise ListrakHTTPError(
                    400,
                    "ERROR_INTEGRATION_CANNOT_ACCESS_BETA_ROUTE",
                    "This route is in Beta and not yet generally available for all integrations.",
                )
            spec = spec_operations(op.integration)[op.operation_id]
            if spec.body_schema is not None:
                request.state.body = await json_body(request)
                validate_body(op.integration, op.operation_id, request.state.body)
            return await op.handler(request, client)
        except ListrakHTTPError as exc:
            return exc.response()

    return endpoint
