"""Shared fixtures: a real emulator on loopback, reset before each test that asks for it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx2
import pytest

from listrak_sync.emulator import EmulatorServer
from listrak_sync.emulator.admin_client import EmulatorAdmin

from .postgres_server import PostgresServer

EMAIL_CLIENT = ("test-email", "test-email-secret-4f1c")
SMS_CLIENT = ("test-sms", "test-sms-secret-9d2e")
DATA_CLIENT = ("test-data", "test-data-secret-77ab")


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
    """A clean emulator with one email, one SMS and one data integration."""
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
                ]
            }
        )
        yield Emulator(emulator_server, admin)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL cluster on loopback for the whole session (fails, never skips, when the
    server binaries are missing: `.ci/run` installs them)."""
    with PostgresServer() as server:
        yield server


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> str:
    """The name of a fresh, empty database on the session's PostgreSQL server."""
    return postgres_server.create_database()
