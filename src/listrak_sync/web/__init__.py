"""The web console (``listrak-sync ui``): Starlette pages over the same project, engine and state
as the CLI, with htmx (vendored in ``static/``) for partial updates. No Node build, no CDN.

>>> from listrak_sync.web import create_app                    # doctest: +SKIP
>>> app = create_app("path/to/project")                        # an ASGI app for uvicorn
"""

from typing import TYPE_CHECKING

from .._exports import lazy_exports

if TYPE_CHECKING:
    from ._app import create_app
    from ._auth import hash_password

__all__ = ["create_app", "hash_password"]

__getattr__ = lazy_exports(
    __name__,
    {
        "create_app": "_app",
        "hash_password": "_auth",
    },
)
