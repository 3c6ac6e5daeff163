"""The WarehouseError a server engine's translator builds from the server's own message: secrets
masked, the connection named first, a hint for the usual causes on its own line, and
TableNotFound for a missing table. Each engine (postgres/exceptions.py,
snowflake/exceptions.py) keeps its own reading of the driver's text and its own hints."""

from __future__ import annotations

from .base import TableNotFound, WarehouseError

__all__ = ["masked", "server_error"]


def masked(message: str, secrets: tuple[str, ...]) -> str:
    """``message`` with each non-empty secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return message


def server_error(
    connection: str,
    message: str,
    hint: str | None,
    *,
    not_found: bool,
    statement: str | None,
) -> WarehouseError:
    """``connection: message`` and ``Hint: hint``; TableNotFound when ``not_found``."""
    text = f"{connection}: {message}"
    if hint:
        text += f"\nHint: {hint}"
    if not_found:
        return TableNotFound(text, statement=statement)
    return WarehouseError(text, statement=statement)
