"""Connection URLs of server engines: shown without a password, and their settings' problems in
one line. Shared by the PostgreSQL and Snowflake configurations."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import ValidationError

__all__ = ["settings_problems", "shown"]


def shown(url: str) -> str:
    """``url`` with any password replaced, for error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def settings_problems(exc: ValidationError) -> str:
    """A config's validation errors as ``field: message; ...``."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'url'}: {err['msg']}" for err in exc.errors()
    )
