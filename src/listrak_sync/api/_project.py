"""Loading a project, and refusing one that ``validate`` would fail before a run touches it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..project.loader import Project
from ..project.loader import load_project as _load
from ..project.problems import ProjectError

if TYPE_CHECKING:
    from ..warehouse import Warehouse

__all__ = ["ProjectLike", "checked", "load_project"]

ProjectLike = Project | str | os.PathLike[str]


def load_project(root: str | os.PathLike[str] = ".") -> Project:
    """Read and validate ``listrak-sync.yml`` in ``root``.

    Raises ``ProjectError`` listing every problem of the file (file:line:column, hint)."""
    return _load(Path(root))


def checked(
    project: ProjectLike,
    *,
    warehouse: Warehouse | None = None,
    credentials: bool = True,
) -> Project:
    """The project, after ``validate``'s checks: ``ProjectError`` lists every problem found.

    ``credentials=False`` skips the credential checks (the caller brings its own client)."""
    loaded = project if isinstance(project, Project) else load_project(project)
    # The checks build each campaign's audience query (sqlglot): imported once the project
    # file has been read, so a missing or malformed file is reported without loading them.
    from ..project.validate import check_project

    problems = check_project(loaded, warehouse=warehouse, check_credentials=credentials)
    if problems:
        raise ProjectError(problems)
    return loaded
