"""Finding a project's sources: the ``sources:`` section, validated with file positions.

The project model may not know ``sources:`` yet; then this module reads the section itself and
hands the project loader the file with that section blanked out (line numbers unchanged, so
every other problem still points at the right line). ``pull --config FILE`` reads the section
from another file instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError

from ..project import CONFIG_FILE, Problem, Project, ProjectError, load_project, parse_project
from ..project.credentials import EnvRef, SecretFileRef
from ..project.secrets import read_secrets_file
from ..project.yaml_marks import Marked, load_marked
from .config import Source, SourcesSection

__all__ = ["load_sources", "resolve_secret"]


def _blank_section(text: str, name: str) -> str:
    """``text`` with the top-level ``name:`` block replaced by empty lines."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    inside = False
    for line in lines:
        top = line[:1] not in ("", " ", "\t", "\n", "\r", "#")
        if top:
            inside = line.split(":", 1)[0].strip() == name
        out.append("\n" if inside else line)
    return "".join(out)


def _problems(exc: ValidationError, marked: Marked) -> list[Problem]:
    problems = []
    for error in exc.errors():
        path: list[str | int] = []
        for step in error["loc"]:
            if step in ("listrak_email", "listrak_sms"):
                continue  # pydantic's name for the union branch, not data
            path.append(step)
        where = ".".join(str(p) for p in path)
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            problems.append(marked.problem(tuple(path), f"unknown field {path[-1]!r}", key=True))
        else:
            problems.append(marked.problem(tuple(path), f"{where}: {message}"))
    return problems


def _sources(marked: Marked) -> dict[str, Source]:
    data = marked.data if isinstance(marked.data, dict) else {}
    try:
        return dict(SourcesSection.model_validate({"sources": data.get("sources") or {}}).sources)
    except ValidationError as exc:
        raise ProjectError(_problems(exc, marked)) from None


def load_sources(root: Path, config_file: Path | None = None) -> tuple[Project, dict[str, Source]]:
    """The project in ``root`` and its sources (from ``config_file`` when given)."""
    file = root / CONFIG_FILE
    if "sources" in _project_fields():
        project = load_project(root)
        text = file.read_text("utf-8")
    else:
        try:
            text = file.read_text("utf-8")
        except FileNotFoundError:
            raise ProjectError.single(
                file, "no project file here", hint="create one with `listrak-sync init`"
            ) from None
        project = parse_project(_blank_section(text, "sources"), root, display=str(file))
    if config_file is not None:
        return project, _sources(load_marked(config_file.read_text("utf-8"), str(config_file)))
    return project, _sources(load_marked(text, str(file)))


def _project_fields() -> set[str]:
    from ..project import ProjectConfig

    return set(ProjectConfig.model_fields)


def resolve_secret(project: Project, value: EnvRef | SecretFileRef | Any, where: str) -> SecretStr:
    """A secret written as ``{env: NAME}`` or ``{secret: NAME}`` (e.g. an event write key)."""
    if isinstance(value, EnvRef):
        found = os.environ.get(value.env)
        if found is None:
            raise ProjectError.single(
                project.config_file, f"{where}: environment variable {value.env} is not set"
            )
        return SecretStr(found)
    if isinstance(value, SecretFileRef):
        secrets_path = project.path(project.config.secrets_file)
        secrets = read_secrets_file(secrets_path)
        if value.secret not in secrets:
            raise ProjectError.single(
                project.config_file, f"{where}: secret {value.secret!r} is not in {secrets_path}"
            )
        return secrets[value.secret]
    raise ProjectError.single(project.config_file, f"{where}: not a secret reference")
