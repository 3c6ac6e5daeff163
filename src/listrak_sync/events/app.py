"""The HTTP surface: Segment's Tracking API endpoints, ``/healthz`` and ``/metrics``.

``POST /v1/track`` (``/v1/t``), ``/v1/identify`` (``/v1/i``) and ``/v1/batch`` answer
``200 {"success": true}`` only once the events are committed to the queue file. Refusals are
JSON ``{"success": false, "error": ..., "problems": [...]}``: 401 for a missing or wrong write
key, 413 for a body over the limit, 408 for a body that does not arrive in time, 400 for
anything else wrong with it (bodies nested deeper than ``limits.max_json_depth`` included),
503 when the queue cannot store. A key in the ``Authorization`` header is checked before the
body is read. Every refusal is one JSON log line; an unexpected error is a 500 with a JSON body
and one log line naming the error, never a traceback.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .intake import IntakeError, key_from_basic, key_matches, messages_from, parse_json
from .service import EventService

__all__ = ["create_app"]

_AUTH_HEADERS = {"WWW-Authenticate": 'Basic realm="listrak-sync events"'}


async def _read(request: Request, limit: int, deadline: float) -> bytes:
    def too_large() -> IntakeError:
        return IntakeError(413, f"the body is larger than {limit} bytes")

    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit and "gzip" not in _encoding(request):
        raise too_large()
    chunks: list[bytes] = []
    size = 0
    try:
        # A client that trickles its body must not hold a connection (and memory) forever.
        async with asyncio.timeout(deadline):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit * 4 + 1024:  # compressed bodies are smaller; cap what we hold
                    raise too_large()
                chunks.append(chunk)
    except TimeoutError:
        raise IntakeError(408, f"the body did not arrive within {deadline:g} s") from None
    raw = b"".join(chunks)
    if "gzip" in _encoding(request):
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            raw = inflate.decompress(raw, limit + 1)
        except zlib.error:
            raise IntakeError(400, "the body is not valid gzip") from None
    if len(raw) > limit:
        raise too_large()
    return raw


def _encoding(request: Request) -> str:
    return request.headers.get("content-encoding", "").lower()


def _endpoint(
    service: EventService, kind: str | None, name: str
) -> Callable[[Request], Awaitable[Response]]:
    limits = service.destination.limits

    async def endpoint(request: Request) -> Response:
        started = time.perf_counter()
        try:
            header = request.headers.get("authorization")
            authorized = False
            if header is not None:
                key = key_from_basic(header)
                if key is None or not key_matches(key, service.key_hashes):
                    raise IntakeError(401, "invalid write key")
                authorized = True
            limit = limits.max_event_bytes if kind is not None else limits.max_batch_bytes
            raw = await _read(request, limit, limits.body_timeout_seconds)
            doc = parse_json(raw, max_depth=limits.max_json_depth)
            if not authorized:
                # Some libraries send the key in the body instead of the header.
                key = doc.get("writeKey")
                if key is None:
                    raise IntakeError(
                        401, "a write key is required: HTTP basic auth with the key as user name"
                    )
                if not isinstance(key, str) or not key_matches(key, service.key_hashes):
                    raise IntakeError(401, "invalid write key")
            messages = messages_from(doc, kind, max_event_bytes=limits.max_event_bytes)
            try:
                await service.accept(messages)
            except (OSError, sqlite3.Error) as exc:
                service.log.error("queue write failed", error=repr(exc))
                raise IntakeError(503, "the events could not be stored; try again") from None
        except IntakeError as exc:
            service.log.info("request refused", endpoint=name, status=exc.status, error=exc.message)
            headers = _AUTH_HEADERS if exc.status == 401 else None
            if exc.status in (408, 413):
                headers = {"Connection": "close"}  # the rest of the body is not read
            response: Response = JSONResponse(exc.body(), exc.status, headers=headers)
        except Exception as exc:  # one readable line, no traceback, and the sender may retry
            service.log.error("request failed", endpoint=name, error=type(exc).__name__)
            response = JSONResponse({"success": False, "error": "internal error; try again"}, 500)
        else:
            response = JSONResponse({"success": True})
        service.metrics.requests.labels(name, str(response.status_code)).inc()
        service.metrics.intake_seconds.observe(time.perf_counter() - started)
        return response

    return endpoint


def create_app(service: EventService) -> Starlette:
    """The ASGI app; its lifespan starts and stops ``service``."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    async def healthz(request: Request) -> Response:
        ok, body = service.health()
        return JSONResponse(body, 200 if ok else 503)

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    routes = [
        Route("/v1/track", _endpoint(service, "track", "track"), methods=["POST"]),
        Route("/v1/t", _endpoint(service, "track", "track"), methods=["POST"]),
        Route("/v1/identify", _endpoint(service, "identify", "identify"), methods=["POST"]),
        Route("/v1/i", _endpoint(service, "identify", "identify"), methods=["POST"]),
        Route("/v1/batch", _endpoint(service, None, "batch"), methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
