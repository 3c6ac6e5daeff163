"""The admin surface under ``/_emulator``: seed, inspect, reset, and set faults.

It is not part of Listrak, needs no token and is never subject to faults. The emulator binds to
loopback by default (another address needs ``--allow-remote``); anyone who can reach the port can
change its state, which is the point of a sandbox and the reason not to expose it.

A web page in the developer's browser can reach loopback too. So every request that changes
something must say ``Content-Type: application/json`` (a cross-site form or ``text/plain`` POST
cannot, without a CORS preflight this surface never grants), and a request whose ``Origin``
is not the emulator itself is refused.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import duckdb
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .faults import FaultRule
from .realism import Realism
from .state import Client, Integration

if TYPE_CHECKING:
    from .modules import ApiModule
    from .routing import Operation
    from .state import EmulatorState

__all__ = ["ClientSeed", "admin_routes", "apply_seed"]

PREFIX = "/_emulator"


class ClientSeed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str
    client_secret: str
    integration: Integration
    paused: bool = False
    beta_access: bool = True
    token_ttl: int | None = None


class ClientChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paused: bool | None = None
    beta_access: bool | None = None
    token_ttl: int | None = None


class Settings(BaseModel):
    """Run-time settings: the realism mode and the request size past which IIS answers 404."""

    model_config = ConfigDict(extra="forbid")

    realism: Realism | None = None
    max_request_bytes: int | None = Field(default=None, ge=1)


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def apply_seed(state: EmulatorState, modules: list[ApiModule], doc: dict[str, Any]) -> None:
    """Apply a seed document: ``clients`` here, every other top-level key to its module."""
    known = {"clients"} | {module.name for module in modules}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise AdminError(400, f"unknown seed section(s): {', '.join(unknown)}")
    for raw in doc.get("clients", []):
        client = ClientSeed.model_validate(raw)
        state.add_client(Client(**client.model_dump()))
    for module in modules:
        if module.name in doc:
            module.seed(state, doc[module.name])


async def _json(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise AdminError(400, f"body is not valid JSON: {exc}") from None


def _check_origin(request: Request) -> None:
    """Refuse a browser's cross-site request: only the emulator's own origin may call."""
    origin = request.headers.get("origin")
    if origin is None:
        return  # not a browser, or a same-origin GET
    host = request.headers.get("host", "")
    if origin == "null" or urlsplit(origin).netloc.lower() != host.lower():
        raise AdminError(403, f"cross-origin requests are refused (Origin {origin})")


def _check_json(request: Request) -> None:
    if request.method in ("GET", "HEAD"):
        return
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise AdminError(415, "the admin surface accepts application/json bodies only")


def admin_routes(
    state: EmulatorState, modules: list[ApiModule], operations: list[Operation]
) -> list[Route]:
    def handle(fn: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                _check_origin(request)
                _check_json(request)
                result = await fn(request)
            except AdminError as exc:
                return JSONResponse({"error": exc.message}, status_code=exc.status)
            except ValidationError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            except (KeyError, ValueError, TypeError) as exc:
                return JSONResponse({"error": f"{type(exc).__name__}: {exc}"}, status_code=400)
            except duckdb.ConstraintException as exc:
                # e.g. a seed reusing an id that exists: the caller's mistake, not a crash.
                return JSONResponse({"error": f"conflicts with what exists: {exc}"}, 409)
            return result if isinstance(result, Response) else JSONResponse(result)

        return endpoint

    async def reset(request: Request) -> Any:
        state.reset()
        return {"reset": True}

    async def seed(request: Request) -> Any:
        doc = await _json(request)
        if not isinstance(doc, dict):
            raise AdminError(400, "a seed document is a JSON object")
        with state.lock:
            apply_seed(state, modules, doc)
        return {"seeded": True}

    async def dump(request: Request) -> Any:
        full = request.query_params.get("full", "false").lower() == "true"
        return {
            "clients": [client.public() for client in state.clients.values()],
            **{module.name: module.dump(state, full) for module in modules},
        }

    async def clients(request: Request) -> Any:
        if request.method == "GET":
            return [client.public() for client in state.clients.values()]
        client = ClientSeed.model_validate(await _json(request))
        state.add_client(Client(**client.model_dump()))
        return JSONResponse(state.clients[client.client_id].public(), status_code=201)

    async def change_client(request: Request) -> Any:
        client_id = request.path_params["client_id"]
        if client_id not in state.clients:
            raise AdminError(404, f"no client {client_id!r}")
        change = ClientChange.model_validate(await _json(request))
        return state.update_client(client_id, **change.model_dump(exclude_unset=True)).public()

    async def expire_tokens(request: Request) -> Any:
        body = await _json(request)
        return {"expired": state.expire_tokens(body.get("client_id"))}

    async def faults(request: Request) -> Any:
        if request.method == "POST":
            body = await _json(request)
            for raw in body if isinstance(body, list) else [body]:
                state.faults.add(FaultRule.model_validate(raw))
        elif request.method == "DELETE":
            state.faults.clear()
        return state.faults.snapshot()

    async def requests(request: Request) -> Any:
        if request.method == "DELETE":
            state.request_counts.clear()
        return dict(state.request_counts)

    async def settings(request: Request) -> Any:
        if request.method == "PATCH":
            change = Settings.model_validate(await _json(request))
            if change.realism is not None:
                state.realism = change.realism
            if change.max_request_bytes is not None:
                state.max_request_bytes = change.max_request_bytes
        return {"realism": state.realism, "max_request_bytes": state.max_request_bytes}

    async def implemented(request: Request) -> Any:
        return [
            {"method": op.method, "path": op.path, "operationId": op.operation_id}
            for op in operations
        ]

    return [
        Route(f"{PREFIX}/reset", handle(reset), methods=["POST"]),
        Route(f"{PREFIX}/seed", handle(seed), methods=["POST"]),
        Route(f"{PREFIX}/state", handle(dump), methods=["GET"]),
        Route(f"{PREFIX}/clients", handle(clients), methods=["GET", "POST"]),
        Route(f"{PREFIX}/clients/{{client_id}}", handle(change_client), methods=["PATCH"]),
        Route(f"{PREFIX}/tokens/expire", handle(expire_tokens), methods=["POST"]),
        Route(f"{PREFIX}/faults", handle(faults), methods=["GET", "POST", "DELETE"]),
        Route(f"{PREFIX}/requests", handle(requests), methods=["GET", "DELETE"]),
        Route(f"{PREFIX}/operations", handle(implemented), methods=["GET"]),
        Route(f"{PREFIX}/settings", handle(settings), methods=["GET", "PATCH"]),
    ]
