"""A ``listrak_files`` destination in the project file logs in with a named credential: the key
text or password comes from the secrets file or the environment, never from the project file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from listrak_sync.files import SftpAuthError, upload_files
from listrak_sync.project import load_project, sftp_target

from .conftest import PASSWORD, USER, SftpServer


def _project(root: Path, server: SftpServer, credential: dict[str, object], secrets: str) -> Path:
    doc = {
        "credentials": {"listrak_ftp": {"type": "sftp", "username": USER, **credential}},
        "destinations": {
            "ftp": {
                "type": "listrak_files",
                "sftp": {
                    "host": server.host,
                    "port": server.port,
                    "credential": "listrak_ftp",
                    "known_hosts": str(server.known_hosts),
                    "remote_dir": "/incoming",
                    "connect_timeout": 10,
                },
            }
        },
    }
    (root / "listrak-sync.yml").write_text(yaml.safe_dump(doc, sort_keys=False), "utf-8")
    file = root / "secrets.yml"
    file.write_text(secrets, "utf-8")
    file.chmod(0o600)
    return root


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "Listrak_Customer_20261123.csv"
    path.write_bytes(b"email\nann@example.com\n")
    return path


async def test_key_from_the_secrets_file(sftp_server: SftpServer, tmp_path: Path) -> None:
    key_text = sftp_server.client_key.read_text()
    secrets = yaml.safe_dump({"ftp_key": key_text})
    root = _project(tmp_path, sftp_server, {"private_key": {"secret": "ftp_key"}}, secrets)
    target = sftp_target(load_project(root), "ftp")
    assert target.private_key is None  # the key stays in memory: no file is written for it
    assert "PRIVATE KEY" not in repr(target)
    (upload,) = await upload_files(target, [(_file(tmp_path), "Listrak_Customer_20261123.csv")])
    assert upload.remote_path == "/incoming/Listrak_Customer_20261123.csv"
    assert sftp_server.files() == ["Listrak_Customer_20261123.csv"]


async def test_password_from_the_environment(
    sftp_server: SftpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path, sftp_server, {"password": {"env": "LSYNC_FTP_PASSWORD"}}, "")
    monkeypatch.setenv("LSYNC_FTP_PASSWORD", "wrong-password")
    with pytest.raises(SftpAuthError) as refused:
        await upload_files(sftp_target(load_project(root), "ftp"), [(_file(tmp_path), "a.csv")])
    assert "wrong-password" not in str(refused.value)
    monkeypatch.setenv("LSYNC_FTP_PASSWORD", PASSWORD)
    target = sftp_target(load_project(root), "ftp")
    await upload_files(target, [(_file(tmp_path), "a.csv")])
    assert sftp_server.files() == ["a.csv"]
