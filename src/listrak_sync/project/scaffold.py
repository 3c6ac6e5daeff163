"""``init``: copy the sample project (package data in ``sample/``) and fill its warehouse.

A user's files come first: every conflict is found before anything is written, so a refused
``init`` leaves the folder as it was. ``.gitignore`` only gains the lines it lacks; ``--force``
replaces ``listrak-sync.yml`` and nothing else (never ``secrets.yml``, never a warehouse).
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..warehouse import connect
from .loader import CONFIG_FILE, parse_project
from .problems import Problem, ProjectError, writing

__all__ = ["SAMPLE_FILES", "ScaffoldResult", "sample_text", "scaffold"]

# Package file name -> name in the project (dotfiles are stored without the dot).
SAMPLE_FILES = {
    "listrak-sync.yml": CONFIG_FILE,
    "secrets.example.yml": "secrets.example.yml",
    "gitignore": ".gitignore",
}
SECRETS_FILE = "secrets.yml"


def sample_text(name: str) -> str:
    return resources.files("listrak_sync.project").joinpath("sample", name).read_text("utf-8")


@dataclass
class ScaffoldResult:
    """What ``init`` did to each file: created, overwritten, updated (lines added) or kept."""

    created: list[Path] = field(default_factory=list)
    overwritten: list[Path] = field(default_factory=list)
    updated: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)


def _write_private(path: Path, text: str) -> None:
    """Create ``path`` readable by its owner only, from the first byte; never replace one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)  # O_CREAT's mode is filtered by the umask


def _missing_lines(path: Path, wanted: str) -> list[str]:
    """The lines of ``wanted`` that ``path`` (an existing .gitignore) does not have yet."""
    have = {line.strip() for line in path.read_text("utf-8", errors="replace").splitlines()}
    return [line for line in wanted.splitlines() if line.strip() and line.strip() not in have]


def _conflicts(directory: Path, *, customers: int, force: bool, warehouse: Path) -> list[Problem]:
    """Everything that stops ``init``, found before a byte is written."""
    if directory.exists() and not directory.is_dir():
        return [Problem(str(directory), 0, 0, "not a folder")]
    problems: list[Problem] = []
    config = directory / CONFIG_FILE
    if config.exists() and not force:
        problems.append(
            Problem(
                str(config),
                0,
                0,
                "a project already exists here",
                "`listrak-sync init --force` replaces listrak-sync.yml only (secrets.yml, "
                ".gitignore and the warehouse are kept)",
            )
        )
    for name in (CONFIG_FILE, *SAMPLE_FILES.values(), SECRETS_FILE):
        path = directory / name
        if path.is_dir():
            problems.append(Problem(str(path), 0, 0, "a folder is in the way of this file"))
    if customers and (warehouse.exists() or Path(f"{warehouse}.wal").exists()):
        problems.append(
            Problem(
                str(warehouse),
                0,
                0,
                "a warehouse already exists here; init does not replace one",
                "keep it with `listrak-sync init --customers 0`, or move it away first",
            )
        )
    return problems


def scaffold(directory: Path, *, customers: int, seed: int, force: bool = False) -> ScaffoldResult:
    """Write the sample project into ``directory`` and generate its sample data.

    ProjectError (nothing written) when a file is in the way; see the module docstring."""
    config_text = sample_text("listrak-sync.yml")
    sample = parse_project(config_text, directory)
    warehouse = sample.path(sample.config.warehouse.connection)
    problems = _conflicts(directory, customers=customers, force=force, warehouse=warehouse)
    if problems:
        raise ProjectError(problems)

    result = ScaffoldResult()
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / CONFIG_FILE
    (result.overwritten if config.exists() else result.created).append(config)
    with writing(config):
        config.write_text(config_text, encoding="utf-8")

    example = directory / "secrets.example.yml"
    if example.exists():
        result.kept.append(example)  # the user's copy, maybe with notes of their own
    else:
        with writing(example):
            example.write_text(sample_text("secrets.example.yml"), encoding="utf-8")
        result.created.append(example)

    gitignore = directory / ".gitignore"
    wanted = sample_text("gitignore")
    if gitignore.exists():
        missing = _missing_lines(gitignore, wanted)
        if missing:
            current = gitignore.read_bytes()
            with writing(gitignore), gitignore.open("a", encoding="utf-8") as handle:
                if current and not current.endswith(b"\n"):
                    handle.write("\n")
                handle.write("\n".join(missing) + "\n")
            result.updated.append(gitignore)
        else:
            result.kept.append(gitignore)
    else:
        with writing(gitignore):
            gitignore.write_text(wanted, encoding="utf-8")
        result.created.append(gitignore)

    secrets = directory / SECRETS_FILE
    if secrets.exists():
        result.kept.append(secrets)
    else:
        with writing(secrets):
            _write_private(secrets, sample_text("secrets.example.yml"))
        result.created.append(secrets)

    if customers:
        sample_data = importlib.import_module("listrak_sync.warehouse.sample_data")
        # connect() creates the file; open_warehouse() would refuse a missing one.
        with connect(sample.config.warehouse.connection, base_dir=directory) as database:
            sample_data.generate(database, customers=customers, seed=seed)
        result.created.append(warehouse)
    return result
