"""``init``: copy the sample project (package data in ``sample/``) and fill its warehouse."""

from __future__ import annotations

import importlib
import os
from importlib import resources
from pathlib import Path

from ..warehouse import connect
from .connection import warehouse_target
from .loader import CONFIG_FILE, load_project
from .problems import ProjectError

__all__ = ["SAMPLE_FILES", "sample_text", "scaffold"]

# Package file name -> name in the project (dotfiles are stored without the dot).
SAMPLE_FILES = {
    "listrak-sync.yml": CONFIG_FILE,
    "secrets.example.yml": "secrets.example.yml",
    "gitignore": ".gitignore",
}


def sample_text(name: str) -> str:
    return resources.files("listrak_sync.project").joinpath("sample", name).read_text("utf-8")


def _write_private(path: Path, text: str) -> None:
    """Create ``path`` readable by its owner only, from the first byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)  # O_CREAT's mode is filtered by the umask; an existing file keeps its


def scaffold(directory: Path, *, customers: int, seed: int, force: bool = False) -> list[Path]:
    """Write the sample project into ``directory`` and generate its sample data; returns the
    files created."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / CONFIG_FILE
    if config.exists() and not force:
        raise ProjectError.single(config, "a project already exists here", hint="use --force")
    created: list[Path] = []
    for source, target in SAMPLE_FILES.items():
        path = directory / target
        path.write_text(sample_text(source), encoding="utf-8")
        created.append(path)
    secrets = directory / "secrets.yml"
    if not secrets.exists() or force:
        _write_private(secrets, sample_text("secrets.example.yml"))
        created.append(secrets)
    if customers:
        project = load_project(directory)
        sample_data = importlib.import_module("listrak_sync.warehouse.sample_data")
        # connect() creates the file; open_warehouse() would refuse a missing one.
        with connect(warehouse_target(project), base_dir=directory) as warehouse:
            sample_data.generate(warehouse, customers=customers, seed=seed)
        created.append(directory / project.config.warehouse.connection)
    return created
