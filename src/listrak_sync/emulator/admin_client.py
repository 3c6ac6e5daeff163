"""A small synchronous client for the admin surface, used by the CLI, tests and the demo."""

from __future__ import annotations

from typing import Any

import httpx2

from .admin import PREFIX

__all__ = ["EmulatorAdmin", "EmulatorAdminError"]


class EmulatorAdminError(RuntimeError):
    """The admin surface refused a request; the message is its explanation."""


class EmulatorAdmin:
    def __init__(self, base_url: str, *, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx2.Client(base_url=self.base_url + PREFIX, timeout=timeout)

    def _call(self, method: str, path: str, json: Any = None, **params: Any) -> Any:
        # Every change is sent as JSON, even an empty one: the surface refuses anything else.
        if method != "GET" and json is None:
            json = {}
        response = self._http.request(method, path, json=json, params=params or None)
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise EmulatorAdminError(f"{method} {PREFIX}{path}: {message}")
        return response.json()

    def reset(self) -> None:
        self._call("POST", "/reset")

    def seed(self, doc: dict[str, Any]) -> None:
        self._call("POST", "/seed", doc)

    def state(self, *, full: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/state", full=str(full).lower())
        return result

    def add_client(
        self, client_id: str, client_secret: str, integration: str, **options: Any
    ) -> None:
        self._call(
            "POST",
            "/clients",
            {
                "client_id": client_id,
                "client_secret": client_secret,
                "integration": integration,
                **options,
            },
        )

    def set_client(self, client_id: str, **changes: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call("PATCH", f"/clients/{client_id}", changes)
        return result

    def expire_tokens(self, client_id: str | None = None) -> int:
        return int(self._call("POST", "/tokens/expire", {"client_id": client_id})["expired"])

    def add_fault(self, **rule: Any) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("POST", "/faults", rule)
        return result

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def requests(self) -> dict[str, int]:
        result: dict[str, int] = self._call("GET", "/requests")
        return result

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    def settings(self, **changes: Any) -> dict[str, Any]:
        """The realism mode and request size limit; changes them when given (until a reset)."""
        result: dict[str, Any] = (
            self._call("PATCH", "/settings", changes) if changes else self._call("GET", "/settings")
        )
        return result

    def operations(self) -> list[dict[str, str]]:
        result: list[dict[str, str]] = self._call("GET", "/operations")
        return result

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EmulatorAdmin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
