"""Uploads to a real SFTP server on loopback: host keys, credentials, cuts and atomic renames."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from listrak_sync.config.files import ListrakFilesDestination
from listrak_sync.files import Exporter, HostKeyError, SftpAuthError, SftpError, upload_files
from listrak_sync.warehouse import Warehouse

from .conftest import PASSWORD, SftpServer

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def _big_file(tmp_path: Path, size: int = 3_000_000) -> Path:
    path = tmp_path / "Listrak_OrderItem_Feed_20261123.csv"
    path.write_bytes(os.urandom(size // 2).hex().encode())
    return path


async def test_export_uploads_all_files(
    sftp_server: SftpServer, warehouse: Warehouse, tmp_path: Path
) -> None:
    destination = ListrakFilesDestination(spool_dir=tmp_path)
    report = await Exporter(warehouse, destination, now=NOW).upload([], sftp_server.target())
    assert not report.failed
    assert sftp_server.files() == [
        "Listrak_Customer_20261123.csv",
        "Listrak_OrderItem_Feed_20261123.csv",
        "Listrak_Order_Feed_20261123.csv",
        "Listrak_Product_Feed_20261123.csv",
    ]
    local = Exporter(warehouse, destination, now=NOW)
    local.write_dir([], tmp_path / "local")
    for name in sftp_server.files():
        remote = (sftp_server.root / "incoming" / name).read_bytes()
        assert remote == (tmp_path / "local" / name).read_bytes()
    entry = report.datasets[0]
    assert entry.location == (
        f"sftp://127.0.0.1:{sftp_server.port}/incoming/Listrak_Customer_20261123.csv"
    )
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith("listrak-files-")]  # noqa: ASYNC240
    assert leftovers == []


async def test_unknown_host_key_is_refused(sftp_server: SftpServer, tmp_path: Path) -> None:
    other = tmp_path / "other_known_hosts"
    other.write_text(f"[127.0.0.1]:{sftp_server.port} ssh-ed25519 " + "A" * 68 + "\n")
    with pytest.raises(HostKeyError, match="not trusted"):
        await upload_files(sftp_server.target(known_hosts=other), [(_big_file(tmp_path), "x.csv")])
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    with pytest.raises(HostKeyError):
        await upload_files(sftp_server.target(known_hosts=empty), [(_big_file(tmp_path), "x.csv")])
    assert sftp_server.files() == []


async def test_missing_known_hosts_file_is_an_error(
    sftp_server: SftpServer, tmp_path: Path
) -> None:
    target = sftp_server.target(known_hosts=tmp_path / "nope")
    with pytest.raises(HostKeyError, match="not found"):
        await upload_files(target, [(_big_file(tmp_path), "x.csv")])


async def test_password_login_and_refusal(sftp_server: SftpServer, tmp_path: Path) -> None:
    file = _big_file(tmp_path, 1000)
    ok = sftp_server.target(private_key=None, password=SecretStr(PASSWORD))
    (upload,) = await upload_files(ok, [(file, "p.csv")])
    assert upload.size == 1000
    assert sftp_server.files() == ["p.csv"]
    bad = sftp_server.target(private_key=None, password=SecretStr("wrong-pass-77"))
    with pytest.raises(SftpAuthError) as info:
        await upload_files(bad, [(file, "q.csv")])
    assert "wrong-pass-77" not in str(info.value)
    assert PASSWORD not in repr(ok)


async def test_cut_mid_upload_then_clean_retry(sftp_server: SftpServer, tmp_path: Path) -> None:
    sftp_server.drop_after = [1_000_000]  # the first connection dies a third of the way in
    file = _big_file(tmp_path)
    (upload,) = await upload_files(sftp_server.target(), [(file, file.name)], retry_delay=0)
    assert sftp_server.connections == 2
    assert upload.attempts == 2
    assert sftp_server.files() == [file.name]  # no partial file left behind
    assert (sftp_server.root / "incoming" / file.name).read_bytes() == file.read_bytes()


async def test_cut_on_every_attempt_leaves_no_final_file(
    sftp_server: SftpServer, tmp_path: Path
) -> None:
    sftp_server.drop_after = [500_000, 500_000]
    file = _big_file(tmp_path)
    with pytest.raises(SftpError, match="after 2 attempts"):
        await upload_files(sftp_server.target(attempts=2), [(file, file.name)], retry_delay=0)
    assert file.name not in sftp_server.files()
    assert all(name.endswith(".part") for name in sftp_server.files())


async def test_reupload_replaces_the_old_file_atomically(
    sftp_server: SftpServer, tmp_path: Path
) -> None:
    old = tmp_path / "a" / "f.csv"
    old.parent.mkdir()
    old.write_bytes(b"old\n")
    await upload_files(sftp_server.target(), [(old, "f.csv")])
    new = _big_file(tmp_path, 10_000)
    await upload_files(sftp_server.target(), [(new, "f.csv")])
    assert sftp_server.files() == ["f.csv"]
    assert (sftp_server.root / "incoming" / "f.csv").read_bytes() == new.read_bytes()
