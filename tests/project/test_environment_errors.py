"""Ordinary trouble around a project gets one line with the path and a hint, never a traceback:
bytes that are not UTF-8, a missing secrets file, an empty project file, a full disk.
(Ctrl-C: tests/sync/email/test_cli.py.)"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from listrak_sync.cli import app
from listrak_sync.project.scaffold import sample_text

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "250"})
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def _project(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "listrak-sync.yml").write_text(sample_text("listrak-sync.yml"))
    secrets = folder / "secrets.yml"
    secrets.write_text(sample_text("secrets.example.yml"))
    secrets.chmod(0o600)
    return folder


def test_a_project_file_that_is_not_utf8_names_the_byte_and_line(tmp_path: Path) -> None:
    _project(tmp_path)
    text = (tmp_path / "listrak-sync.yml").read_bytes()
    (tmp_path / "listrak-sync.yml").write_bytes(text.replace(b"sample-retail", b"caf\xe9", 1))
    code, output = run("validate", "-p", str(tmp_path), "--offline")
    assert code == 1
    assert "listrak-sync.yml:4:" in output
    assert "not UTF-8: byte 0xe9 at line 4" in output
    code, output = run("segments", "list", "-p", str(tmp_path))
    assert code == 1
    assert "byte 0xe9 at line 4" in output


def test_a_secrets_file_that_is_not_utf8_names_the_byte_not_the_text(tmp_path: Path) -> None:
    _project(tmp_path)
    (tmp_path / "secrets.yml").write_bytes(b"a: 1\nlistrak_email_client_secret: hunter\xff42\n")
    code, output = run("validate", "-p", str(tmp_path), "--offline")
    assert code == 1
    assert "secrets.yml:2:" in output
    assert "secrets file is not UTF-8: byte 0xff at line 2" in output
    assert "hunter" not in output


def test_a_missing_secrets_file_says_so_and_what_to_copy(tmp_path: Path) -> None:
    _project(tmp_path)
    (tmp_path / "secrets.yml").unlink()
    code, output = run("validate", "-p", str(tmp_path), "--offline")
    assert code == 1
    assert "secrets.yml is missing" in output
    assert "copy secrets.example.yml to secrets.yml" in output


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "{}\n"])
def test_an_empty_project_file_fails_validate(tmp_path: Path, text: str) -> None:
    (tmp_path / "listrak-sync.yml").write_text(text)
    code, output = run("validate", "-p", str(tmp_path), "--offline")
    assert code == 1
    assert "the project file is empty" in output
    assert "listrak-sync init" in output


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_is_one_line_with_the_path(tmp_path: Path) -> None:
    assert run("init", str(tmp_path), "--customers", "0")[0] == 0
    config = tmp_path / "listrak-sync.yml"
    config.unlink()
    config.symlink_to("/dev/full")  # every write there fails with ENOSPC, as on a full disk
    code, output = run("init", str(tmp_path), "--customers", "0", "--force")
    assert code == 1
    assert f"error: {config}: no space left on the device" in output
    assert "hint: free some disk space" in output


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on a tiny tmpfs filled to the last byte (needs mount rights: root here)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("needs the right to mount a tmpfs")
    try:
        with contextlib.suppress(OSError), (disk / "filler").open("wb") as filler:
            while True:
                filler.write(b"\0" * 4096)
                filler.flush()
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_full_disk_under_the_state_folder_is_one_line(tmp_path: Path, full_disk: Path) -> None:
    project = tmp_path / "project"
    assert run("init", str(project), "--customers", "50")[0] == 0
    shutil.rmtree(project / ".listrak-sync", ignore_errors=True)
    (project / ".listrak-sync").symlink_to(full_disk)
    code, output = run("plan", "spring_sale", "-p", str(project))
    assert code == 1
    assert "state.sqlite: no space left on the device" in output
    assert "hint: free some disk space" in output


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_one_line_with_the_path(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    try:
        code, output = run("init", str(folder), "--customers", "0")
    finally:
        folder.chmod(0o700)
    assert code == 1
    assert "permission denied" in output
    assert str(folder) in output
