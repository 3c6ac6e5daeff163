"""The emulator's state: integrations, tokens, and a DuckDB database for everything else.

Clients and tokens live in plain dictionaries (they are few and read on every request); the
Listrak resources (lists, contacts, profile fields, imports, SMS contacts, data imports) live in
DuckDB tables that each API module declares, so bulk work such as a million-row list import is a
set-based SQL statement rather than a Python loop. With a state file, DuckDB persists those tables
and the integrations are written to a side table on every change, so a restart keeps everything.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb

from .answers import AnswerOrder
from .faults import FaultSet
from .realism import Realism, realism_from_env

__all__ = [
    "DEFAULT_MAX_REQUEST_BYTES",
    "Client",
    "EmulatorState",
    "Integration",
    "Token",
    "allocate_id",
]

Integration = Literal["email", "sms", "data", "privacy"]

_CLIENT_TABLE = """
CREATE TABLE IF NOT EXISTS emu_client (
    client_id VARCHAR PRIMARY KEY,
    client_secret VARCHAR NOT NULL,
    integration VARCHAR NOT NULL,
    paused BOOLEAN NOT NULL,
    beta_access BOOLEAN NOT NULL,
    token_ttl INTEGER
);
-- The last id handed out per kind of resource: Listrak's ids are global and never reused, so a
-- deleted list's id is not given to the next one (max + 1 would).
CREATE TABLE IF NOT EXISTS emu_id (kind VARCHAR PRIMARY KEY, last_id BIGINT NOT NULL);
"""

# Past this request size IIS answers 404 before the API sees the request. Listrak does not
# publish its limit; it must exceed a 185 MB import file once base64-encoded (about 247 MB).
DEFAULT_MAX_REQUEST_BYTES = 270_000_000


def allocate_id(
    db: duckdb.DuckDBPyConnection, kind: str, table: str, column: str, start: int
) -> int:
    """A new id for ``kind`` (call under ``state.lock``): above every id in ``table.column`` and
    every id handed out before, deleted or not (Listrak never reuses one); ``start`` first."""
    row = db.execute(
        "SELECT greatest(coalesce((SELECT last_id FROM emu_id WHERE kind = ?), 0),"
        f" coalesce((SELECT max({column}) FROM {table}), 0), ? - 1) + 1",
        [kind, start],
    ).fetchall()[0]
    new_id = int(row[0])
    db.execute("INSERT OR REPLACE INTO emu_id VALUES (?, ?)", [kind, new_id])
    return new_id


@dataclass
class Client:
    """An integration as configured on Listrak's Integration Manager page."""

    client_id: str
    client_secret: str
    integration: Integration
    paused: bool = False
    beta_access: bool = True
    token_ttl: int | None = None  # seconds; None means the emulator default

    def public(self) -> dict[str, Any]:
        """The client as the admin surface shows it: the secret is never echoed back."""
        return {
            "client_id": self.client_id,
            "integration": self.integration,
            "paused": self.paused,
            "beta_access": self.beta_access,
            "token_ttl": self.token_ttl,
        }


@dataclass
class Token:
    access_token: str
    client_id: str
    expires_at: float


@dataclass
class EmulatorState:
    """Everything the emulator knows. One instance per running app."""

    token_ttl: int = 3600
    state_file: Path | None = None
    clients: dict[str, Client] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    faults: FaultSet = field(default_factory=FaultSet)
    answers: AnswerOrder = field(default_factory=AnswerOrder)
    request_counts: Counter[str] = field(default_factory=Counter)
    _db: duckdb.DuckDBPyConnection = field(init=False)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _schemas: list[str] = field(default_factory=list)
    _reset_hooks: list[Callable[[EmulatorState], Any]] = field(default_factory=list)
    _request_hooks: list[Callable[[EmulatorState], Any]] = field(default_factory=list)
    _access_hooks: list[Callable[[], None]] = field(default_factory=list)
    clock: Callable[[], float] = time.time
    realism: Realism = field(default_factory=realism_from_env)
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    _initial: tuple[Realism, int] = field(init=False)

    def __post_init__(self) -> None:
        self._initial = (self.realism, self.max_request_bytes)
        self._db = duckdb.connect(str(self.state_file) if self.state_file else ":memory:")
        self.db.execute(_CLIENT_TABLE)
        for row in self.db.execute("SELECT * FROM emu_client").fetchall():
            self.clients[row[0]] = Client(row[0], row[1], row[2], row[3], row[4], row[5])

    # -- schema and lifecycle -------------------------------------------------------------

    def register_schema(self, ddl: str) -> None:
        """Declare tables (idempotent DDL) an API module needs; created now and after reset."""
        self._schemas.append(ddl)
        self.db.execute(ddl)

    def on_reset(self, hook: Callable[[EmulatorState], None]) -> None:
        """Run ``hook`` after a reset, e.g. to clear an API module's in-memory caches."""
        self._reset_hooks.append(hook)

    def before_request(self, hook: Callable[[EmulatorState], Any]) -> None:
        """Run ``hook`` before every Listrak route answers (e.g. to finish due work)."""
        self._request_hooks.append(hook)

    def before_access(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` before anything reads or writes the database through :attr:`db` or
        :meth:`cursor`: a module that holds writes back (``sms/batch.py``) commits them first, so
        whoever looks next sees the state a one-request-at-a-time server would have."""
        self._access_hooks.append(hook)

    @property
    def db(self) -> duckdb.DuckDBPyConnection:
        """The database, with every held-back write committed (see :meth:`before_access`)."""
        for hook in self._access_hooks:
            hook()
        return self._db

    @contextmanager
    def held_back_cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor that commits nothing held back first: for the module committing it."""
        cur = self._db.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def run_request_hooks(self) -> None:
        for hook in self._request_hooks:
            hook(self)

    def reset(self) -> None:
        """Forget everything: integrations, tokens, faults, counters and all resources."""
        with self.lock:
            tables = [
                row[0]
                for row in self.db.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
                ).fetchall()
            ]
            for table in tables:
                self.db.execute(f'DROP TABLE IF EXISTS "{table}" CASCADE')
            sequences = [
                row[0]
                for row in self.db.execute(
                    "SELECT sequence_name FROM duckdb_sequences()"
                ).fetchall()
            ]
            for sequence in sequences:
                self.db.execute(f'DROP SEQUENCE IF EXISTS "{sequence}" CASCADE')
            self.db.execute(_CLIENT_TABLE)
            for ddl in self._schemas:
                self.db.execute(ddl)
            self.clients.clear()
            self.tokens.clear()
            self.faults.clear()
            self.request_counts.clear()
            self.realism, self.max_request_bytes = self._initial
            for hook in self._reset_hooks:
                hook(self)

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for work off the event loop thread (DuckDB cursors are per-thread)."""
        cur = self.db.cursor()
        try:
            yield cur
        finally:
            cur.close()

    # -- integrations and tokens ------------------------------------------------------------

    def add_client(self, client: Client) -> None:
        with self.lock:
            self.clients[client.client_id] = client
            self.db.execute(
                "INSERT OR REPLACE INTO emu_client VALUES (?, ?, ?, ?, ?, ?)",
                [
                    client.client_id,
                    client.client_secret,
                    client.integration,
                    client.paused,
                    client.beta_access,
                    client.token_ttl,
                ],
            )

    def update_client(self, client_id: str, **changes: Any) -> Client:
        client = self.clients[client_id]
        for key, value in changes.items():
            setattr(client, key, value)
        self.add_client(client)
        return client

    def issue_token(self, client: Client) -> Token:
        ttl = client.token_ttl if client.token_ttl is not None else self.token_ttl
        token = Token(secrets.token_urlsafe(32), client.client_id, self.clock() + ttl)
        self.tokens[token.access_token] = token
        return token

    def expire_tokens(self, client_id: str | None = None) -> int:
        """Make tokens (of one client, or all) expire now, as if their lifetime had run out."""
        now = self.clock()
        count = 0
        for token in self.tokens.values():
            if client_id is None or token.client_id == client_id:
                token.expires_at = min(token.expires_at, now - 1)
                count += 1
        return count

    def client_for_token(self, access_token: str) -> Client | None:
        """The client a live token belongs to, or None when unknown or expired."""
        token = self.tokens.get(access_token)
        if token is None or token.expires_at <= self.clock():
            return None
        return self.clients.get(token.client_id)

    def close(self) -> None:
        self.db.close()  # commits what is held back first
