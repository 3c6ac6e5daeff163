"""A console project: a DuckDB warehouse with customers to segment, a campaign synced to the
test emulator, and one user per role (argon2 hashes in the project file)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from starlette.testclient import TestClient

from listrak_sync.web import create_app, hash_password
from tests.conftest import EMAIL_CLIENT, Emulator
from tests.sync.helpers import FAST, SECRET_ENV

PASSWORDS = {
    "ada": "admin-password-0001",
    "mia": "marketer-password-02",
    "val": "viewer-password-0003",
}
ROLES = {"ada": "admin", "mia": "marketer", "val": "viewer"}
COUNTRIES = ("US", "US", "CA", "GB", "US")
TIERS = ("gold", "silver", "bronze")


@pytest.fixture(scope="session")
def password_hashes() -> dict[str, str]:
    return {user: hash_password(password) for user, password in PASSWORDS.items()}


@dataclass
class ConsoleProject:
    root: Path
    emulator: Emulator

    @property
    def config_file(self) -> Path:
        return self.root / "listrak-sync.yml"

    def set_customers(self, count: int, *, in_audience: bool = True, bad_emails: int = 0) -> None:
        """``count`` customers; the first ``bad_emails`` have an address Listrak would refuse.
        Customer i has i % 4 orders, one every 40 days back from today, of 10 * i each."""
        with duckdb.connect(str(self.root / "warehouse.duckdb")) as con:
            con.execute(
                "CREATE OR REPLACE TABLE customer_360 (customer_id VARCHAR, in_audience BOOLEAN,"
                " country VARCHAR, tier VARCHAR, ltv DOUBLE, signup_date DATE)"
            )
            con.execute(
                "CREATE OR REPLACE TABLE merged_customers (customer_id VARCHAR, email VARCHAR,"
                " first_name VARCHAR, city VARCHAR, phone VARCHAR)"
            )
            con.execute(
                "CREATE OR REPLACE TABLE orders (order_id INTEGER, customer_id VARCHAR,"
                " amount DOUBLE, ordered_at DATE)"
            )
            for i in range(1, count + 1):
                key = f"C{i:05d}"
                for j in range(i % 4):
                    con.execute(
                        "INSERT INTO orders VALUES (?, ?, ?, current_date - ?)",
                        [i * 10 + j, key, 10.0 * i, 40 * j],
                    )
                con.execute(
                    "INSERT INTO customer_360 VALUES (?, ?, ?, ?, ?, DATE '2025-01-01' + ?)",
                    [key, in_audience, COUNTRIES[i % 5], TIERS[i % 3], 100.0 * (i % 7), i],
                )
                email = f"not-an-email-{i}" if i <= bad_emails else f"person{i}@example.com"
                con.execute(
                    "INSERT INTO merged_customers VALUES (?, ?, ?, 'Boston', ?)",
                    [key, email, f"First{i}", f"+1617555{i:04d}"],
                )


def config_text(emulator: Emulator, hashes: dict[str, str]) -> str:
    users = "\n".join(
        f"    {user}: {{role: {ROLES[user]}, password_hash: '{hashes[user]}'}}"
        for user in PASSWORDS
    )
    return (
        textwrap.dedent(
            f"""\
        # The console's test project: keep this comment (saving must preserve it).
        version: 1
        warehouse:
          connection: warehouse.duckdb   # a DuckDB file next to this one
        listrak:
          api_url: {emulator.base_url}
          auth_url: {emulator.base_url}
        credentials:
          email:
            type: listrak
            client_id: {EMAIL_CLIENT[0]}
            client_secret: {{env: {SECRET_ENV}}}
        destinations:
          newsletter:
            type: listrak_email
            credential: email
            list: {{name: Newsletter}}
            create_missing_fields: true
            attributes:
              - {{column: first_name, field: FirstName}}
        segments:
          members:
            sql: SELECT customer_id FROM customer_360 WHERE in_audience
          north_america:   # US and Canada
            filter:
              any:
                - {{attribute: country, op: in, value: [US, CA]}}
        campaigns:
          spring:
            segment: members
            groups:
              - {{name: all, percent: 100, destinations: [newsletter]}}
        console:
          users:
        """
        )
        + users
        + "\n"
    )


@pytest.fixture
def console_project(
    tmp_path: Path,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    password_hashes: dict[str, str],
) -> ConsoleProject:
    monkeypatch.setenv(SECRET_ENV, EMAIL_CLIENT[1])
    made = ConsoleProject(tmp_path / "project", emulator)
    made.root.mkdir()
    made.config_file.write_text(config_text(emulator, password_hashes))
    made.set_customers(20)
    return made


@pytest.fixture
def client(console_project: ConsoleProject) -> Iterator[TestClient]:
    app = create_app(console_project.root, client_settings=FAST)
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client


def csrf_of(client: TestClient, path: str = "/login") -> str:
    """The CSRF token the page at ``path`` carries in its forms."""
    import re

    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found, f"no CSRF token on {path}"
    return found[1]


def log_in(client: TestClient, user: str) -> str:
    """Log ``user`` in; the session's CSRF token."""
    response = client.post(
        "/login",
        data={"user": user, "password": PASSWORDS[user], "csrf": csrf_of(client), "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client, "/")
