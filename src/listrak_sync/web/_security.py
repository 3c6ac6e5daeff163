"""Session key, CSRF tokens and security headers for the web console.

The session is a signed cookie (Starlette's SessionMiddleware: HttpOnly, SameSite=Strict,
Secure behind TLS). Its signing key is made once per project and kept in
``.listrak-sync/console/session.key`` (0600): restarting the console keeps people logged in,
deleting the file logs everyone out.

Every state-changing request (POST) carries the session's CSRF token, in the form field
``csrf`` or the ``X-CSRF-Token`` header (htmx sends the header, set once on ``<body>``).
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..state.private import FILE_MODE, private_file, private_folder

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SecurityHeaders",
    "csrf_token",
    "csrf_valid",
    "session_key",
]

CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"

# Scripts and styles only from the console itself (htmx is vendored; no inline script, no
# eval); no framing; forms post only back here.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)
_HEADERS = {
    "content-security-policy": _CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


def session_key(workspace: Path) -> str:
    """The project's session signing key, created on first use."""
    folder = private_folder(workspace / "console")
    path = folder / "session.key"
    if not path.exists() or not path.read_text(encoding="ascii").strip():
        private_file(path)
        path.write_text(secrets.token_urlsafe(48), encoding="ascii")
        path.chmod(FILE_MODE)
    return path.read_text(encoding="ascii").strip()


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made with the session)."""
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


def csrf_valid(request: Request, sent: str | None) -> bool:
    expected = request.session.get(CSRF_FIELD)
    if not isinstance(expected, str) or not sent:
        return False
    return hmac.compare_digest(expected, sent)


class SecurityHeaders:
    """Adds the security headers to every response; pages are not cached (they show state and
    sometimes people)."""

    def __init__(self, app: ASGIApp, *, tls: bool) -> None:
        self.app = app
        self.tls = tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _HEADERS.items():
                    headers.setdefault(name, value)
                if self.tls:
                    headers.setdefault("strict-transport-security", "max-age=31536000")
                if not scope["path"].startswith("/static/"):
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, with_headers)
