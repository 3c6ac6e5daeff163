"""The client's exceptions, one tree, each carrying the Listrak error code when there is one.

::

    ListrakError                 base: .code, .status, .message, .method, .path
    ├── ConfigurationError       the client was asked for something it was not set up for
    ├── TransportError           no answer: connection refused or dropped, timeout (.maybe_applied,
    │   │                        .reason, .url)
    │   └── Unreachable          nothing ever answered at the URL: not started, or a wrong URL
    ├── AuthError                401/403, or the token endpoint refused the credentials
    ├── NotFound                 404: ERROR_UNABLE_TO_LOCATE_RESOURCE, ERROR_UNKNOWN_ROUTE, ...
    ├── RateLimited              429 after the retries ran out (.retry_after)
    ├── ServerError              5xx after the retries ran out (.maybe_applied)
    ├── ListrakApiError          any other error answer (400 ERROR_INVALID_PARAMETER, ...)
    └── ImportError_             a bulk import did not finish well (.import_file_id)
        ├── ImportTimeout        status polling gave up before the import finished
        └── ImportFailed         the import ended in a failed state

Messages name the operation, method and full path (``/sms/v1/...``), never a header, a body, a
token or a secret, and email addresses and phone numbers in them are masked, so an exception is
safe to log and to store in a run record. Branch on ``code`` (the ``error`` member of
Listrak's ``{status, error, message}`` body), never on message text.
"""

from __future__ import annotations

from typing import Any

from ..masking import mask_text

__all__ = [
    "AuthError",
    "ConfigurationError",
    "ImportError_",
    "ImportFailed",
    "ImportTimeout",
    "ListrakApiError",
    "ListrakError",
    "NotFound",
    "RateLimited",
    "ServerError",
    "TransportError",
    "Unreachable",
]


class ListrakError(Exception):
    """Base of every error the client raises."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
        operation: str | None = None,
    ) -> None:
        self.message = message
        self.code = code
        self.status = status
        self.method = method
        self.path = path
        self.operation = operation
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = " ".join(part for part in (self.method, self.path) if part)
        head = " ".join(str(part) for part in (self.status, self.code) if part is not None)
        text = f"{head}: {self.message}" if head else self.message
        return mask_text(f"{text} ({where})" if where else text)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._describe()!r})"


class ConfigurationError(ListrakError):
    """The client lacks what a call needs, e.g. SMS credentials for an SMS call."""


class TransportError(ListrakError):
    """The request got no answer. ``maybe_applied`` is true when it may have reached Listrak;
    ``reason`` says what happened in words (``connection refused``, ``timeout``, ...) and
    ``url`` is the URL tried, without its query."""

    def __init__(
        self,
        message: str,
        *,
        maybe_applied: bool,
        reason: str = "no answer",
        url: str | None = None,
        **context: Any,
    ) -> None:
        self.maybe_applied = maybe_applied
        self.reason = reason
        self.url = url
        super().__init__(message, **context)


class Unreachable(TransportError):
    """No connection could be made to a URL that never answered in this process: the server is
    not running or the configured URL is wrong. Raised after a short wait, not the full retry
    budget an outage of a server that did answer gets."""


class AuthError(ListrakError):
    """Credentials or token refused (after token refreshes and replays)."""


class NotFound(ListrakError):
    """The resource (list, contact, import, route) does not exist."""


class RateLimited(ListrakError):
    """Listrak's leaky bucket kept answering 429 until the retries ran out."""

    def __init__(self, message: str, *, retry_after: float | None = None, **context: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **context)


class ServerError(ListrakError):
    """A 5xx answer. ``maybe_applied`` is false only for 502/503, which never reach the API."""

    def __init__(self, message: str, *, maybe_applied: bool = True, **context: Any) -> None:
        self.maybe_applied = maybe_applied
        super().__init__(message, **context)


class ListrakApiError(ListrakError):
    """Any other error answer; ``code`` says which (ERROR_PHONE_NUMBER_FOUND, ...)."""


class ImportError_(ListrakError):
    """A bulk import did not finish well."""

    def __init__(self, message: str, *, import_file_id: int, **context: Any) -> None:
        self.import_file_id = import_file_id
        super().__init__(message, **context)


class ImportTimeout(ImportError_):
    """Polling the import's status gave up before it reached a final state."""


class ImportFailed(ImportError_):
    """The import reached a failed state."""
