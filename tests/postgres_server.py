"""A throwaway PostgreSQL cluster for tests: Debian's server binaries, a temp directory, loopback.

The cluster is created with ``initdb`` and run with ``pg_ctl``; password logins over TCP (SCRAM),
so tests can try a wrong password. PostgreSQL refuses to run as root, so under root the cluster
belongs to the ``postgres`` system user (created by Debian's package) and commands run through
``runuser``. A server that cannot start is an error, never a skip: CI must not pass without it.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import psycopg

__all__ = ["PostgresServer", "server_binaries"]

ADMIN = "listrak_admin"


def server_binaries() -> Path:
    """The folder holding initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/N/bin."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(Path(p).parent.parent.name),
    )
    if not found:
        raise RuntimeError(
            "PostgreSQL server binaries not found (no pg_ctl on PATH or in "
            "/usr/lib/postgresql/*/bin); install them: apt-get install -y postgresql"
        )
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresServer:
    """A running cluster on 127.0.0.1:``port``; ``url(database)`` for a login as the admin."""

    def __init__(self) -> None:
        self.bin = server_binaries()
        self.password = uuid.uuid4().hex
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="listrak-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self._as_root = os.geteuid() == 0

    # -- lifetime --------------------------------------------------------------------------

    def start(self) -> PostgresServer:
        self.socket_dir.mkdir()
        password_file = self.root / "pwfile"
        password_file.write_text(self.password + "\n")
        if self._as_root:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.socket_dir, "postgres", "postgres")
            shutil.chown(password_file, "postgres", "postgres")
        self._run(
            [
                "initdb",
                "--pgdata",
                str(self.data),
                "--username",
                ADMIN,
                "--pwfile",
                str(password_file),
                "--auth-local",
                "trust",
                "--auth-host",
                "scram-sha-256",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
            ]
        )
        password_file.unlink()
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.socket_dir} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50 "
            "-c shared_buffers=32MB"
        )
        self._run(
            [
                "pg_ctl",
                "--pgdata",
                str(self.data),
                "--log",
                str(self.root / "server.log"),
                "--options",
                options,
                "--wait",
                "--timeout",
                "120",
                "start",
            ]
        )
        return self

    def stop(self) -> None:
        if self.data.exists():
            self._run(["pg_ctl", "--pgdata", str(self.data), "--mode", "immediate", "stop"])
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self, command: Sequence[str]) -> None:
        argv = [str(self.bin / command[0]), *command[1:]]
        if self._as_root:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=180)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"{command[0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n{tail}"
            )

    # -- use -------------------------------------------------------------------------------

    def url(self, database: str = "postgres", *, user: str = ADMIN) -> str:
        """A ``postgresql://`` URL without the password (pass it by reference)."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}?sslmode=disable"

    def admin(self, database: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        """An autocommit admin connection for test setup."""
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=ADMIN,
            password=self.password,
            dbname=database,
            autocommit=True,
        )

    def create_database(self) -> str:
        """A new empty database; its name."""
        name = f"test_{uuid.uuid4().hex[:12]}"
        with self.admin() as con:
            con.execute(f'CREATE DATABASE "{name}"')
        return name
