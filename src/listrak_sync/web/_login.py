"""``/login`` and ``/logout``."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ..project.problems import ProjectError
from ._app import Console, Page
from ._auth import verify_login
from ._security import CSRF_FIELD, csrf_valid

__all__ = ["routes"]


def routes(console: Console) -> list[BaseRoute]:
    async def login_form(request: Request) -> Response:
        return console.render(request, "login.html", next=_next(request.query_params.get("next")))

    async def login(request: Request) -> Response:
        form = await request.form()
        name, password = str(form.get("user") or ""), str(form.get("password") or "")
        target = _next(str(form.get("next") or ""))
        address = request.client.host if request.client else "unknown"
        if not csrf_valid(request, str(form.get(CSRF_FIELD) or "")):
            return console.render(
                request, "login.html", 403, next=target, user_name=name,
                error="The login form expired: try again.",
            )  # fmt: skip
        wait = console.throttle.retry_after(name, address)
        if wait > 0:
            return console.render(
                request, "login.html", 429, next=target, user_name=name,
                error=f"Too many failed logins: try again in {int(wait // 60) + 1} minutes.",
            )  # fmt: skip
        try:
            project = await run_in_threadpool(console.project)
        except ProjectError as exc:
            return console.render(
                request, "broken.html", 500, problems=[str(p) for p in exc.problems]
            )
        role = await run_in_threadpool(verify_login, project.config.console, name, password)
        if role is None:
            console.throttle.failed(name, address)
            return console.render(
                request, "login.html", 401, next=target, user_name=name,
                error="Wrong user name or password.",
            )  # fmt: skip
        console.throttle.succeeded(name)
        request.session.clear()  # a fresh session (and CSRF token) for the logged-in user
        request.session["user"] = name
        return RedirectResponse(target, status_code=303)

    def logout(page: Page) -> Response:
        page.request.session.clear()
        return RedirectResponse("/login", status_code=303)

    return [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        console.post("/logout", "viewer", logout),
    ]


def _next(value: str | None) -> str:
    """Where to go after logging in: a path of this console only (no open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"
