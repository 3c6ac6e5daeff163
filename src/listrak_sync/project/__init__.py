"""The project folder: ``listrak-sync.yml`` models, loading with positions, and validation.

``load_project(dir)`` gives a validated ``Project``; ``project.validate.validate_project(dir)``
lists every problem (file, line, column, hint) instead of stopping at the first. (It is not
re-exported here: it needs the audiences package, which itself imports the config models.)

The names below are loaded on first use: the config models embed the models of other packages
(files, events, source), and those packages import ``project.credentials`` and the loader, so an
eager import here would be circular.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .connection import open_warehouse
    from .loader import CONFIG_FILE, Project, load_project, load_section, parse_project
    from .models import Campaign, ProjectConfig, Segment
    from .problems import Problem, ProjectError
    from .secrets import (
        ResolvedListrak,
        ResolvedSftp,
        resolve_listrak,
        resolve_secret,
        resolve_sftp,
        sftp_target,
    )

__all__ = [
    "CONFIG_FILE",
    "Campaign",
    "Problem",
    "Project",
    "ProjectConfig",
    "ProjectError",
    "ResolvedListrak",
    "ResolvedSftp",
    "Segment",
    "load_project",
    "load_section",
    "open_warehouse",
    "parse_project",
    "resolve_listrak",
    "resolve_secret",
    "resolve_sftp",
    "sftp_target",
]

_HOMES = {
    "open_warehouse": "connection",
    "CONFIG_FILE": "loader",
    "Project": "loader",
    "load_project": "loader",
    "load_section": "loader",
    "parse_project": "loader",
    "Campaign": "models",
    "ProjectConfig": "models",
    "Segment": "models",
    "Problem": "problems",
    "ProjectError": "problems",
    "ResolvedListrak": "secrets",
    "ResolvedSftp": "secrets",
    "resolve_listrak": "secrets",
    "resolve_secret": "secrets",
    "resolve_sftp": "secrets",
    "sftp_target": "secrets",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value
