"""Listrak's error bodies: ``{status, error, message}`` with the codes each spec lists.

Every handler raises :class:`ListrakHTTPError`; one exception handler in the app turns it into
the JSON body the real API sends, so no route builds error responses by hand.
"""

from __future__ import annotations

from starlette.responses import JSONResponse

__all__ = ["ListrakHTTPError", "error_response"]


class ListrakHTTPError(Exception):
    """An error the emulator answers with, exactly as Listrak would."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> JSONResponse:
        return error_response(self.status, self.code, self.message)

    @classmethod
    def not_found(cls, what: str) -> ListrakHTTPError:
        return cls(
            404,
            "ERROR_UNABLE_TO_LOCATE_RESOURCE",
            f"Unable to locate a resource associated with the {what} supplied.",
        )

    @classmethod
    def invalid_parameter(cls, name: str, detail: str = "") -> ListrakHTTPError:
        message = f"An invalid value was supplied for {name}."
        if detail:
            message = f"{message} {detail}"
        return cls(400, "ERROR_INVALID_PARAMETER", message)


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"status": status, "error": code, "message": message}, status_code=status, headers=headers
    )
