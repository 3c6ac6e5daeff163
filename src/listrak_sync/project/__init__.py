"""The project folder: ``listrak-sync.yml`` loaded with positions, its secrets resolved, and
validation.

``load_project(dir)`` gives a validated ``Project`` whose ``config`` is a
``listrak_sync.config.ProjectConfig``; ``validate_project(dir)`` lists every problem (file, line,
column, hint) instead of stopping at the first. This package sits above the feature packages
(docs/explanation/layers.md): it reads files and the environment, they receive resolved config.
"""

from typing import TYPE_CHECKING

from .._exports import lazy_exports

if TYPE_CHECKING:
    from .connection import open_warehouse
    from .loader import CONFIG_FILE, Project, load_project, load_section, parse_project
    from .problems import Problem, ProjectError
    from .secrets import (
        ResolvedListrak,
        ResolvedSftp,
        resolve_listrak,
        resolve_secret,
        resolve_sftp,
        sftp_target,
    )
    from .validate import validate_project

__all__ = [
    "CONFIG_FILE",
    "Problem",
    "Project",
    "ProjectError",
    "ResolvedListrak",
    "ResolvedSftp",
    "load_project",
    "load_section",
    "open_warehouse",
    "parse_project",
    "resolve_listrak",
    "resolve_secret",
    "resolve_sftp",
    "sftp_target",
    "validate_project",
]

# The warehouse adapters and the audience compiler (validation) load on first use.
__getattr__ = lazy_exports(
    __name__,
    {
        "open_warehouse": "connection",
        "CONFIG_FILE": "loader",
        "Project": "loader",
        "load_project": "loader",
        "load_section": "loader",
        "parse_project": "loader",
        "Problem": "problems",
        "ProjectError": "problems",
        "ResolvedListrak": "secrets",
        "ResolvedSftp": "secrets",
        "resolve_listrak": "secrets",
        "resolve_secret": "secrets",
        "resolve_sftp": "secrets",
        "sftp_target": "secrets",
        "validate_project": "validate",
    },
)
