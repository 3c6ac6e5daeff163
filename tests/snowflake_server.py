"""A Snowflake emulator for tests: fakesnow's server on loopback, with Snowflake's login checks.

fakesnow (Snowflake on DuckDB, spoken to by the real ``snowflake-connector-python`` over HTTP)
accepts any login. In front of it this server checks what Snowflake checks at login, and answers
a refused one with Snowflake's own error body: a password for password users, and for key-pair
users the JWT the connector signs with the private key, verified against the registered public
key. Statements a test marks with ``refusing`` are answered with Snowflake's error body
(a missing privilege, a statement timeout: what fakesnow cannot produce). Everything else goes
to fakesnow unchanged. Its data is fakesnow's shared in-memory
database (one per test process): tests isolate themselves with a database of their own.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from pathlib import Path
from types import TracebackType
from typing import Any

import jwt
import pyarrow as pa
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from listrak_sync.warehouse import Warehouse, connect, parse
from listrak_sync.warehouse.snowflake import SnowflakeConfig

__all__ = ["KEY_USER", "PASSWORD_USER", "SnowflakeServer", "open_snowflake", "snowflake_config"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

ACCOUNT = "fakesnow"
PASSWORD_USER = "LISTRAK_SYNC"
KEY_USER = "LISTRAK_SYNC_KEY"
LOGIN = "/session/v1/login-request"
QUERY = "/queries/v1/query-request"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class SnowflakeServer:
    """fakesnow on 127.0.0.1:``port`` behind Snowflake's login checks.

    ``PASSWORD_USER`` logs in with ``password``; ``KEY_USER`` with the key pair whose private
    key ``write_key(path, passphrase)`` writes as a PKCS#8 PEM file.
    """

    def __init__(self) -> None:
        import fakesnow.arrow
        import fakesnow.server  # the emulator and its DuckDB load with the fixture, not on import

        _keep_null_timestamps(fakesnow.arrow)

        self.password = uuid.uuid4().hex
        self._query_rules: list[tuple[re.Pattern[str], str, str, str]] = []
        self.port = _free_port()
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._public_pem = self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self._inner = fakesnow.server.app
        config = uvicorn.Config(
            self._app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            interface="asgi3",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="snowflake", daemon=True)

    # -- lifetime --------------------------------------------------------------------------

    def __enter__(self) -> SnowflakeServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fakesnow server did not start")
            time.sleep(0.05)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)

    # -- use -------------------------------------------------------------------------------

    def url(self, database: str, schema: str = "PUBLIC", *, user: str = PASSWORD_USER) -> str:
        """A ``snowflake://`` URL of this server, without the password (pass it by reference)."""
        return (
            f"snowflake://{user}@{ACCOUNT}/{database}/{schema}?warehouse=TEST_WH"
            f"&host=127.0.0.1&port={self.port}&protocol=http&login_timeout=10"
            # fakesnow answers what it cannot run with HTTP 500, which the connector retries
            # without end unless a request has a time limit.
            "&network_timeout=60"
        )

    def create_database(self) -> str:
        """A fresh database name (fakesnow creates it, with its schema, at the first login)."""
        return f"TEST_{uuid.uuid4().hex[:12].upper()}"

    def write_key(self, path: Path, passphrase: str | None = None) -> Path:
        """The key-pair user's private key as a PKCS#8 PEM file (encrypted with a passphrase)."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase.encode())
            if passphrase
            else serialization.NoEncryption()
        )
        path.write_bytes(
            self._key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
            )
        )
        return path

    # -- the login check -------------------------------------------------------------------

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in (LOGIN, QUERY):
            await self._inner(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if scope["path"] == QUERY:
            refused = self._query_refusal(body, dict(scope["headers"]))
        else:
            refused = self._refusal(body, dict(scope["headers"]))
        if refused is not None:
            payload = json.dumps(refused).encode()
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self._inner(scope, replay, send)

    @contextlib.contextmanager
    def refusing(self, pattern: str, code: str, sqlstate: str, message: str) -> Iterator[None]:
        """Inside the block, answer statements matching ``pattern`` (a regular expression) as
        Snowflake answers one it refuses: what fakesnow cannot produce (a missing privilege, a
        statement timeout), in Snowflake's own error body, so the real connector raises its
        own exception for it."""
        rule = (re.compile(pattern), code, sqlstate, message)
        self._query_rules.append(rule)
        try:
            yield
        finally:
            self._query_rules.remove(rule)

    def _query_refusal(self, body: bytes, headers: dict[bytes, bytes]) -> dict[str, Any] | None:
        if not self._query_rules:
            return None
        if headers.get(b"content-encoding") == b"gzip":
            body = gzip.decompress(body)
        sql = str(json.loads(body).get("sqlText", ""))
        for pattern, code, sqlstate, message in self._query_rules:
            if pattern.search(sql):
                return {
                    "data": {
                        "internalError": False,
                        "errorCode": code,
                        "age": 0,
                        "sqlState": sqlstate,
                        "queryId": str(uuid.uuid4()),
                        "line": -1,
                        "pos": -1,
                        "type": "COMPILATION",
                    },
                    "code": code,
                    "message": message,
                    "success": False,
                    "headers": None,
                }
        return None

    def _refusal(self, body: bytes, headers: dict[bytes, bytes]) -> dict[str, Any] | None:
        """Snowflake's answer to a login it refuses, or None to let it in."""
        if headers.get(b"content-encoding") == b"gzip":
            body = gzip.decompress(body)
        data = json.loads(body)["data"]
        user = str(data.get("LOGIN_NAME", "")).upper()
        if data.get("AUTHENTICATOR") == "SNOWFLAKE_JWT":
            with contextlib.suppress(jwt.PyJWTError):
                claims = jwt.decode(data.get("TOKEN", ""), self._public_pem, algorithms=["RS256"])
                if user == KEY_USER and claims.get("sub") == f"{ACCOUNT}.{KEY_USER}".upper():
                    return None
            return _refused("390144", "JWT token is invalid.")
        if user == PASSWORD_USER and data.get("PASSWORD") == self.password:
            return None
        return _refused("390100", "Incorrect username or password was specified.")


def _keep_null_timestamps(arrow: Any) -> None:
    """Correct a fakesnow 0.12 bug: it sends a NULL timestamp as a valid struct of zeros, which
    the connector reads as 1970-01-01. Snowflake marks the struct itself null; so do we."""
    original = arrow.timestamp_to_sf_struct
    if getattr(original, "keeps_nulls", False):
        return

    def timestamp_to_sf_struct(ts: pa.Array | pa.ChunkedArray) -> pa.Array:
        if isinstance(ts, pa.ChunkedArray):
            ts = ts.combine_chunks()
        struct = original(ts)
        if not ts.null_count:
            return struct
        children = [struct.field(i) for i in range(struct.type.num_fields)]
        fields = [struct.type.field(i) for i in range(struct.type.num_fields)]
        return pa.StructArray.from_arrays(children, fields=fields, mask=ts.is_null())

    timestamp_to_sf_struct.keeps_nulls = True  # type: ignore[attr-defined]
    arrow.timestamp_to_sf_struct = timestamp_to_sf_struct


def _refused(code: str, message: str) -> dict[str, Any]:
    return {
        "data": {"nextAction": None, "inFlightCtx": None, "authnMethod": "USERNAME_PASSWORD"},
        "code": code,
        "message": message,
        "success": False,
        "headers": None,
    }


def open_snowflake(server: SnowflakeServer, database: str | None = None) -> Warehouse:
    """A SnowflakeWarehouse on ``server`` (a fresh database unless named), logged in with the
    password."""
    config = parse(server.url(database or server.create_database()))
    assert isinstance(config, SnowflakeConfig)
    return connect(config.with_password(SecretStr(server.password)))


def snowflake_config(
    server: SnowflakeServer, database: str | None = None, **settings: object
) -> SnowflakeConfig:
    """The typed config of a database on ``server`` (a fresh one unless named), with the
    password, and ``settings`` (e.g. ``lock_lease``) set."""
    config = parse(server.url(database or server.create_database()))
    assert isinstance(config, SnowflakeConfig)
    return config.model_copy(update=settings).with_password(SecretStr(server.password))
