"""Uploading finished files to Listrak's SFTP server, atomically and with host key checking.

Each file goes to a temporary name (``.NAME.part``), its remote size is checked against the local
file, and only then is it renamed to its final name, so Listrak's pick-up never sees a partial
file under a name it watches. After a broken connection the upload restarts from the beginning
of the file on a fresh connection: SFTP writes are pipelined, so a cut can leave holes anywhere in
the remote temporary file and its size says nothing about which bytes arrived.

An unknown or changed host key is an error, never a prompt, and checking cannot be turned off:
the server's key must be in the configured known_hosts file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh

from ..config.files import SftpTarget
from ..errors import ListrakSyncError
from .local import partial_name

__all__ = ["HostKeyError", "SftpAuthError", "SftpError", "Upload", "upload_files"]

log = logging.getLogger(__name__)


class SftpError(ListrakSyncError):
    """An upload failed; the message names host and file, never a secret."""


class HostKeyError(SftpError):
    """The server's host key is not in known_hosts (or differs from it)."""


class SftpAuthError(SftpError):
    """The server refused the username, password or key."""


@dataclass(frozen=True)
class Upload:
    local: Path
    remote_path: str
    size: int
    attempts: int


_RETRYABLE = (
    asyncssh.ConnectionLost,
    asyncssh.DisconnectError,
    asyncssh.SFTPConnectionLost,
    asyncssh.SFTPNoConnection,
    ConnectionError,
    TimeoutError,
    OSError,
)


async def _connect(target: SftpTarget) -> asyncssh.SSHClientConnection:
    known_hosts = target.known_hosts.expanduser()
    if not known_hosts.is_file():
        raise HostKeyError(
            f"known_hosts file {known_hosts} not found; add the host key of "
            f"{target.host}:{target.port} to it (host key checking cannot be turned off)"
        )
    options: dict[str, Any] = {
        "username": target.username,
        "known_hosts": str(known_hosts),
        "config": None,  # no ~/.ssh/config surprises: the destination says everything
        "agent_path": None,
        "client_keys": None,
        "password": None,
    }
    passphrase = target.passphrase.get_secret_value() if target.passphrase else None
    if target.private_key is not None:
        try:
            key = asyncssh.read_private_key(target.private_key.expanduser(), passphrase)
        except (OSError, asyncssh.KeyImportError) as exc:
            raise SftpAuthError(
                f"cannot read private key {target.private_key}: {type(exc).__name__}"
            ) from None
        options["client_keys"] = [key]
    elif target.private_key_data is not None:
        try:
            key = asyncssh.import_private_key(
                target.private_key_data.get_secret_value(), passphrase
            )
        except asyncssh.KeyImportError as exc:
            # The exception text is asyncssh's, about the key's format; it never quotes the key.
            raise SftpAuthError(f"cannot use the private key: {exc}") from None
        options["client_keys"] = [key]
    if target.password is not None:
        options["password"] = target.password.get_secret_value()
    try:
        return await asyncio.wait_for(
            asyncssh.connect(target.host, target.port, **options), target.connect_timeout
        )
    except asyncssh.HostKeyNotVerifiable:
        raise HostKeyError(
            f"host key of {target.host}:{target.port} is not trusted by {known_hosts}; "
            "refusing to connect"
        ) from None
    except asyncssh.PermissionDenied:
        raise SftpAuthError(
            f"{target.host}:{target.port} refused the credentials of user {target.username!r}"
        ) from None


async def _put(sftp: asyncssh.SFTPClient, local: Path, remote_path: str) -> int:
    size = await asyncio.to_thread(os.path.getsize, local)
    directory, name = posixpath.split(remote_path)
    temp = posixpath.join(directory, partial_name(name))
    with contextlib.suppress(asyncssh.SFTPNoSuchFile):
        await sftp.remove(temp)  # a leftover of an earlier, broken attempt
    await sftp.put(str(local), temp, sparse=False)
    remote_size = (await sftp.stat(temp)).size
    if remote_size != size:
        await sftp.remove(temp)
        raise SftpError(f"{remote_path}: uploaded {remote_size} bytes of {size}")
    try:
        await sftp.posix_rename(temp, remote_path)
    except asyncssh.SFTPOpUnsupported:
        # Plain SFTP rename refuses to replace: clear the old file first. There is a moment
        # with no file under the final name, never one with a partial file.
        with contextlib.suppress(asyncssh.SFTPNoSuchFile):
            await sftp.remove(remote_path)
        await sftp.rename(temp, remote_path)
    return size


async def upload_files(
    target: SftpTarget, files: Sequence[tuple[Path, str]], *, retry_delay: float = 1.0
) -> list[Upload]:
    """Upload ``(local file, remote name)`` pairs into ``target.remote_dir``.

    Retries a broken connection up to ``target.attempts`` times in all, restarting the file that
    was in flight; files already renamed are not sent again.
    """
    done: list[Upload] = []
    attempt = 0
    while True:
        attempt += 1
        try:
            async with await _connect(target) as conn, conn.start_sftp_client() as sftp:
                for local, name in files[len(done) :]:
                    remote_path = posixpath.join(target.remote_dir, name)
                    size = await _put(sftp, local, remote_path)
                    done.append(Upload(local, remote_path, size, attempt))
                    log.info("uploaded %s (%d bytes)", remote_path, size)
            return done
        except (HostKeyError, SftpAuthError):
            raise
        except (SftpError, *_RETRYABLE) as exc:
            if attempt >= target.attempts:
                raise SftpError(
                    f"upload to {target.host}:{target.port} failed after {attempt} attempts: "
                    f"{type(exc).__name__}: {exc}"
                ) from None
            log.warning("upload attempt %d failed (%s); retrying", attempt, type(exc).__name__)
            await asyncio.sleep(retry_delay * attempt)
        except asyncssh.SFTPError as exc:  # refused by the server (permissions, no such folder)
            raise SftpError(f"{target.host}:{target.port}: {exc.reason}") from None
