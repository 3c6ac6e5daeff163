"""Shared fixtures: a real emulator on loopback, reset before each test that asks for it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx2
import pytest

from listrak_sync.emulator import EmulatorServer
from listrak_sync.emulator.admin_client import EmulatorAdmin

EMAIL_CLIENT = ("test-email", "test-email-secret-4f1c")
SMS_CLIENT = ("test-sms", "test-sms-secret-9d2e")
DATA_CLIENT = ("test-data", "test-data-secret-77ab")
PRIVACY_CLIENT = ("test-privacy", "test-privacy-secret-3b8c")


@dataclass
class Emulator:
    """A running emulator: its URL, its admin client, and direct access to its state."""

    server: EmulatorServer
    admin: EmulatorAdmin

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def token(self, client: tuple[str, str] = EMAIL_CLIENT) -> str:
        response = httpx2.post(
            f"{self.base_url}/OAuth2/Token",
            data={
                "grant_type": "client_credentials",
                "client_id": client[0],
                "client_secret": client[1],
            },
        )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token

    def http(self, client: tuple[str, str] = EMAIL_CLIENT) -> httpx2.Client:
        """A plain HTTP client with a bearer token for ``client``."""
        return httpx2.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.token(client)}"},
            timeout=30,
        )


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def emulator(emulator_server: EmulatorServer) -> Iterator[Emulator]:
    """A clean emulator with one email, one SMS, one data and one privacy integration."""
    with EmulatorAdmin(emulator_server.base_url) as admin:
        admin.reset()
        admin.seed(
            {
                "clients": [
                    {
                        "client_id": EMAIL_CLIENT[0],
                        "client_secret": EMAIL_CLIENT[1],
                        "integration": "email",
                    },
                    {
                        "client_id": SMS_CLIENT[0],
                        "client_secret": SMS_CLIENT[1],
                        "integration": "sms",
                    },
                    {
                        "client_id": DATA_CLIENT[0],
                        "client_secret": DATA_CLIENT[1],
                        "integration": "data",
                    },
                    {
                        "client_id": PRIVACY_CLIENT[0],
                        "client_secret": PRIVACY_CLIENT[1],
                        "integration": "privacy",
                    },
                ]
            }
        )
        yield Emulator(emulator_server, admin)
