"""Words for transport failures, and the origin of a URL (which server a failure is about)."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx2

__all__ = ["CONNECT_FAILURES", "origin", "transport_reason"]

# Reasons that mean no connection was made at all: the server is down, not started, or the URL
# points at the wrong place.
CONNECT_FAILURES = frozenset({"connection refused", "cannot connect", "connect timeout"})


def transport_reason(exc: httpx2.TransportError) -> str:
    """What went wrong, in the words a retry line and an error message use."""
    if isinstance(exc, httpx2.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, httpx2.ConnectError):
        return "connection refused" if _refused(exc) else "cannot connect"
    if isinstance(exc, httpx2.PoolTimeout):
        return "no free connection"
    if isinstance(exc, httpx2.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx2.RemoteProtocolError | httpx2.ReadError | httpx2.WriteError):
        return "connection dropped"
    return type(exc).__name__


def origin(url: str) -> str:
    """``scheme://host:port`` of ``url``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _refused(exc: BaseException) -> bool:
    # httpx's message is often just "All connection attempts failed"; the OS error is a cause.
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError) or "refused" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False
