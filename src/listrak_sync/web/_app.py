"""The web console's Starlette app: sessions, security headers, and the guard every page and
action goes through (logged in, role, CSRF on POST).

The project file is read again on every request: it stays the one source of truth (an edit in a
text editor shows on reload), and the users and roles in it apply at once. Pages call the
library (``listrak_sync.api``) and the modules behind the CLI; nothing here keeps its own copy
of the project, the runs or the audiences.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from .. import __version__
from ..api import load_project
from ..config.console import Role
from ..errors import ListrakSyncError
from ..masking import mask_text
from ..project.loader import Project
from ..project.problems import ProjectError
from ..sync.workspace import Workspace
from ._auth import LoginThrottle, allows
from ._jobs import Jobs
from ._live import LiveQueries
from ._security import CSRF_FIELD, CSRF_HEADER, SecurityHeaders, csrf_token, csrf_valid
from ._security import session_key as make_session_key

__all__ = ["Console", "Page", "User", "create_app"]

_HERE = Path(__file__).parent
SESSION_COOKIE = "listrak_console"


@dataclass(frozen=True)
class User:
    name: str
    role: Role

    def can(self, needed: Role) -> bool:
        return allows(self.role, needed)

    @property
    def sees_pii(self) -> bool:
        """Only admins may ask to see emails and phones unmasked; viewers never."""
        return self.role == "admin"


@dataclass
class Page:
    """What a handler gets: the request, who asks, the project as the file says now, and the
    posted form (already CSRF-checked)."""

    request: Request
    user: User
    project: Project
    form: FormData | None
    console: Console

    def render(self, template: str, http_status: int = 200, **values: Any) -> HTMLResponse:
        return self.console.render(self.request, template, http_status, user=self.user, **values)

    def live_key(self, what: str) -> str:
        """Who counts what: a newer live count under this key stops the older one."""
        return f"{csrf_token(self.request)}:{self.request.url.path}:{what}"

    def field(self, name: str, default: str = "") -> str:
        value = (
            self.form.get(name) if self.form is not None else self.request.query_params.get(name)
        )
        return value if isinstance(value, str) else default


Handler = Callable[[Page], Response]


@dataclass
class Console:
    """One project's console: where it lives and what its pages share."""

    root: Path
    client_settings: Mapping[str, Any] = field(default_factory=dict)
    tls: bool = False
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    jobs: Jobs = field(default_factory=Jobs)
    live: LiveQueries = field(default_factory=LiveQueries)
    env: Environment = field(init=False)

    def __post_init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(_HERE / "templates"),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["masked"] = mask_text
        self.env.globals["version"] = __version__

    @property
    def workspace(self) -> Path:
        return Workspace.in_project(self.root).root

    def project(self) -> Project:
        return load_project(self.root)

    def render(
        self, request: Request, template: str, http_status: int = 200, **values: Any
    ) -> HTMLResponse:
        values.setdefault("user", None)
        text = self.env.get_template(template).render(
            request=request,
            path=request.url.path,
            csrf=csrf_token(request) if "session" in request.scope else "",
            csrf_field=CSRF_FIELD,
            htmx=request.headers.get("hx-request") == "true",
            **values,
        )
        return HTMLResponse(text, status_code=http_status)

    def user(self, request: Request, project: Project) -> User | None:
        """The logged-in user as the project file says now (gone from it: logged out)."""
        name = request.session.get("user")
        if not isinstance(name, str):
            return None
        found = project.config.console.users.get(name)
        return User(name, found.role) if found else None

    def get(self, path: str, needed: Role, handler: Handler) -> Route:
        return Route(path, self.guard(needed, handler), methods=["GET"])

    def post(self, path: str, needed: Role, handler: Handler) -> Route:
        return Route(path, self.guard(needed, handler, post=True), methods=["POST"])

    def guard(
        self, needed: Role, handler: Handler, *, post: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        """An endpoint that runs ``handler`` (in a worker thread: pages query the warehouse)
        for a logged-in user with at least role ``needed``; a POST needs the CSRF token."""

        async def endpoint(request: Request) -> Response:
            try:
                project = await run_in_threadpool(self.project)
            except ProjectError as exc:
                return self.render(
                    request, "broken.html", 500, problems=[str(p) for p in exc.problems]
                )
            user = self.user(request, project)
            if user is None:
                return _to_login(request)
            form = None
            if post:
                form = await request.form()
                sent = form.get(CSRF_FIELD)
                token = sent if isinstance(sent, str) else request.headers.get(CSRF_HEADER)
                if not csrf_valid(request, token):
                    return self.render(
                        request, _refused(request), 403, user=user,
                        reason="The form was not sent from this console's page (its CSRF "
                        "token is missing or stale). Reload the page and try again.",
                    )  # fmt: skip
            if not user.can(needed):
                return self.render(
                    request, _refused(request), 403, user=user,
                    reason=f"This needs the {needed} role; you are {user.role}.",
                )  # fmt: skip
            page = Page(request, user, project, form, self)
            try:
                return await run_in_threadpool(handler, page)
            except ListrakSyncError as exc:  # the warehouse is missing, a lock is held...
                lines = [text + (f" ({hint})" if hint else "") for text, hint in exc.report()]
                template = "error_fragment.html" if _htmx(request) else "error.html"
                return self.render(
                    request, template, 500, user=user,
                    lines=[mask_text(line) for line in lines],
                )  # fmt: skip

        return endpoint


def _refused(request: Request) -> str:
    return "refused_fragment.html" if _htmx(request) else "refused.html"


def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _to_login(request: Request) -> Response:
    target = "/login?next=" + quote(request.url.path)
    if request.headers.get("hx-request") == "true":
        return Response(status_code=401, headers={"HX-Redirect": target})
    if request.method != "GET":
        return Response("log in first", status_code=401)
    return RedirectResponse(target, status_code=303)


def create_app(
    root: str | os.PathLike[str],
    *,
    client_settings: Mapping[str, Any] | None = None,
    tls: bool = False,
) -> Starlette:
    """The console for the project in ``root``. ``client_settings`` change the Listrak
    clients' settings (as ``LISTRAK_SYNC_CLIENT_SETTINGS`` does for the CLI); ``tls`` marks
    the session cookie Secure (the console sits behind a TLS proxy)."""
    from . import _campaigns, _events, _login, _overview, _runs, _segments

    console = Console(Path(root), dict(client_settings or {}), tls=tls)
    project = console.project()  # a broken project file stops the start, with its problems
    routes: list[BaseRoute] = [
        Mount("/static", StaticFiles(directory=_HERE / "static"), name="static"),
        *_login.routes(console),
        *_overview.routes(console),
        *_runs.routes(console),
        *_segments.routes(console),
        *_campaigns.routes(console),
        *_events.routes(console),
    ]
    hours = project.config.console.session_hours
    middleware = [
        Middleware(SecurityHeaders, tls=tls),
        Middleware(
            SessionMiddleware,
            secret_key=make_session_key(console.workspace),
            session_cookie=SESSION_COOKIE,
            max_age=int(hours * 3600),
            same_site="strict",
            https_only=tls,
        ),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        console.jobs.close()

    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.console = console
    return app


def post_routes(app: Starlette) -> list[Route]:
    """Every POST route (tests check each one refuses a request without the CSRF token)."""
    return [r for r in app.routes if isinstance(r, Route) and "POST" in (r.methods or ())]
