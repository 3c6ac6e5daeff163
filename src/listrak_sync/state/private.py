"""Files and folders only their owner can read: state, snapshots, queues, the warehouse.

They hold emails and phone numbers, so folders we create are 0700 and files 0600, whatever
the umask. A file is created empty with its mode before the library that fills it opens it
(SQLite, pyarrow, DuckDB's COPY open an existing file and keep its mode; SQLite gives its
``-wal`` and ``-shm`` files the mode of the database file).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["FILE_MODE", "FOLDER_MODE", "private_file", "private_folder", "restrict"]

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path, *, tighten: bool = False) -> Path:
    """Create ``path`` (and missing parents) 0700. ``tighten``: also take group and other
    rights away from an existing folder (only for folders that are ours alone, like
    ``.listrak-sync/``; never for a user's folder)."""
    if not path.exists():
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, FOLDER_MODE)
    elif tighten:
        restrict(path)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 unless it exists (an existing one is tightened)."""
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    except FileExistsError:
        restrict(path)
    else:
        os.close(descriptor)
    return path


def restrict(path: Path) -> None:
    """Take group and other rights away from ``path`` (a file or folder we own)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            os.chmod(path, mode & 0o700)
    except FileNotFoundError:
        pass
    except PermissionError:
        # Not ours (a shared warehouse file): leave it as its owner set it.
        pass
