"""The project folder: ``listrak-sync.yml`` models, loading with positions, and validation.

``load_project(dir)`` gives a validated ``Project``; ``project.validate.validate_project(dir)``
lists every problem (file, line, column, hint) instead of stopping at the first. (It is not
re-exported here: it needs the audiences package, which itself imports the config models.)
"""

from .connection import open_warehouse
from .loader import CONFIG_FILE, Project, load_project, parse_project
from .models import Campaign, ProjectConfig, Segment
from .problems import Problem, ProjectError
from .secrets import ResolvedListrak, ResolvedSftp, resolve_listrak, resolve_sftp

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
    "open_warehouse",
    "parse_project",
    "resolve_listrak",
    "resolve_sftp",
]
