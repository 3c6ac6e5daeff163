"""A real SFTP server on loopback (asyncssh, in-process) and a small retail warehouse."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from listrak_sync.config.files import SftpTarget
from listrak_sync.warehouse import Warehouse, connect

USER = "listrak-ftp"
PASSWORD = "ftp-secret-5c1a"


@dataclass
class SftpServer:
    """A running server: where it listens, its files, and knobs for misbehaving."""

    host: str
    port: int
    root: Path
    client_key: Path
    known_hosts: Path
    drop_after: list[int] = field(default_factory=list)  # per connection: bytes before a cut
    connections: int = 0
    written: int = 0

    def target(self, **changes: Any) -> SftpTarget:
        options: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "username": USER,
            "private_key": self.client_key,
            "known_hosts": self.known_hosts,
            "remote_dir": "/incoming",
            "connect_timeout": 10,
        }
        options.update(changes)
        return SftpTarget(**options)

    def files(self) -> list[str]:
        return sorted(p.name for p in (self.root / "incoming").iterdir())


def _keys(tmp: Path) -> tuple[asyncssh.SSHKey, Path, Path]:
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    client_path = tmp / "client_key"
    client_key.write_private_key(client_path)
    (tmp / "authorized_keys").write_bytes(client_key.export_public_key())
    return host_key, client_path, tmp / "authorized_keys"


@pytest.fixture
async def sftp_server(tmp_path: Path) -> AsyncIterator[SftpServer]:
    keys = tmp_path / "keys"
    keys.mkdir()
    host_key, client_path, authorized = _keys(keys)
    root = tmp_path / "sftp-root"
    (root / "incoming").mkdir(parents=True)
    state = SftpServer("127.0.0.1", 0, root, client_path, keys / "known_hosts")

    class Server(asyncssh.SSHServer):
        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, username: str, password: str) -> bool:
            return username == USER and password == PASSWORD

    class CuttingSftp(asyncssh.SFTPServer):
        """Drops the whole SSH connection once this connection has received N bytes."""

        def __init__(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
            super().__init__(chan, chroot=bytes(root))
            state.connections += 1
            self._limit = (
                state.drop_after[state.connections - 1]
                if len(state.drop_after) >= state.connections
                else None
            )
            self._received = 0

        def write(self, file_obj: object, offset: int, data: bytes) -> int:
            self._received += len(data)
            if self._limit is not None and self._received > self._limit:
                self.channel.get_connection().abort()
                raise asyncssh.SFTPConnectionLost("cut by the test server")
            state.written += len(data)
            return super().write(file_obj, offset, data)  # type: ignore[return-value]

    server = await asyncssh.listen(
        "127.0.0.1",
        0,
        server_host_keys=[host_key],
        authorized_client_keys=str(authorized),
        server_factory=Server,
        sftp_factory=CuttingSftp,
        allow_scp=False,
    )
    state.port = server.sockets[0].getsockname()[1]
    line = f"[127.0.0.1]:{state.port} ".encode() + host_key.export_public_key()
    state.known_hosts.write_bytes(line)
    try:
        yield state
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    """A DuckDB file with small customers, products, orders and order items tables."""
    with connect(tmp_path / "shop.duckdb") as wh:
        wh.execute(
            """
            CREATE TABLE merged_customers AS SELECT * FROM (VALUES
              ('0001', 'jane@example.com', '(717) 555-9636', DATE '1989-01-16', 'female',
               'Jane', 'Miller', '1 Main St, Apt "B"', 'Philadelphia', 'Pennsylvania', '19103',
               'United States', true),
              ('0002', 'not-an-email', '12', DATE '1850-05-05', 'declined',
               'Bob', E'Two\\nLines', NULL, NULL, 'PA', NULL, 'US', NULL),
              ('0003', 'JANE@example.com ', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               NULL, NULL, false),
              ('0004', 'zoë@exämple.com', '+44 20 7946 0958', NULL, 'M', 'Zoë', NULL, NULL,
               NULL, NULL, NULL, 'gb', NULL)
            ) t(customer_id, email, phone, birthday, gender, first_name, last_name, address1,
                city, state, zip, country, registered);
            CREATE TABLE products AS SELECT
              'SKU-' || i AS sku, 'Cabana Top ' || i AS title, 20 + i * 0.5 AS price,
              'https://shop.example/img/' || i || '.jpg' AS image_url,
              'https://shop.example/p/' || i AS product_url, i % 2 = 0 AS in_stock
            FROM range(4) r(i);
            CREATE TABLE orders AS SELECT * FROM (VALUES
              ('0531435151', TIMESTAMPTZ '2018-08-23 17:23:48+00', 'jane@example.com', 47.0),
              ('0531435152', TIMESTAMPTZ '2018-08-24 10:00:00-04', 'jane@example.com', 12.5),
              ('0531435153', TIMESTAMPTZ '2018-08-25 09:00:00+00', NULL, 5.0)
            ) t(order_id, order_date, email, order_total);
            CREATE TABLE order_items AS SELECT * FROM (VALUES
              ('0531435151', 'SKU-1', 'Completed', 4, 15.0, 12.5, 50.0),
              ('0531435151', 'SKU-2', '7', 1, 10.0, 10.0, 10.0),
              ('0531435152', 'SKU-3', 'Closed', 1, 12.5, 12.5, 12.5),
              ('0531435152', 'SKU-9', 'Shipped', 0, 1.0, 1.0, 1.0),
              ('0531435159', 'SKU-1', 'Pending', 2, 15.0, 15.0, 30.0)
            ) t(order_id, sku, status, quantity, price, discounted_price, item_total);
            """
        )
        yield wh
