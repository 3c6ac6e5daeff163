"""Load a project folder: read ``listrak-sync.yml``, validate it, and map every pydantic error
back to the file, line and column it came from, with a hint where one helps."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ..config.models import ProjectConfig
from .problems import Problem, ProjectError, read_text
from .yaml_marks import Marked, Path, load_marked

__all__ = [
    "CONFIG_FILE",
    "Project",
    "did_you_mean",
    "load_project",
    "load_section",
    "parse_project",
]

CONFIG_FILE = "listrak-sync.yml"


@dataclass(frozen=True)
class Project:
    """A loaded project: its folder, its validated config and where each value was written."""

    root: FsPath
    config: ProjectConfig
    marked: Marked

    @property
    def config_file(self) -> FsPath:
        return self.root / CONFIG_FILE

    def path(self, relative: str) -> FsPath:
        """A path from the config, resolved against the project folder."""
        candidate = FsPath(relative).expanduser()
        return candidate if candidate.is_absolute() else self.root / candidate

    def problem(
        self, path: Path, message: str, hint: str | None = None, *, key: bool = False
    ) -> Problem:
        return self.marked.problem(path, message, hint, key=key)


def did_you_mean(word: str, choices: typing.Iterable[str]) -> str | None:
    """``did you mean 'x'?`` for the closest choice, or the list of choices when few."""
    options = sorted({str(c) for c in choices})
    close = difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    if options and len(options) <= 12:
        return "expected one of: " + ", ".join(options)
    return None


def load_project(root: str | FsPath) -> Project:
    """Read and validate ``listrak-sync.yml`` in ``root``; ProjectError lists every problem."""
    folder = FsPath(root)
    file = folder / CONFIG_FILE
    if not file.exists() and not file.is_symlink():
        raise ProjectError.single(
            file, "no project file here", hint="create one with `listrak-sync init`"
        )
    return parse_project(read_text(file, what="project file"), folder, display=str(file))


def load_section(file: str | FsPath, section: str) -> tuple[ProjectConfig, Marked]:
    """Only ``section`` of another YAML file (its other keys are ignored), validated as that
    section of the project file, with problems at that file's lines: e.g. ``pull --config``.

    The other sections of the config are defaults; take ``section`` from it. The ``Marked``
    places later problems (an unset variable named there) in that file."""
    if section not in ProjectConfig.model_fields:
        raise ValueError(f"no project section named {section!r}")
    path = FsPath(file)
    text = read_text(path)
    marked = load_marked(text, str(path))
    if marked.problems:
        raise ProjectError(marked.problems)
    data = marked.data if isinstance(marked.data, dict) else {}
    try:
        config = ProjectConfig.model_validate({section: data.get(section) or {}})
    except ValidationError as exc:
        raise ProjectError(_problems(exc, marked)) from None
    return config, marked


def parse_project(text: str, root: FsPath, *, display: str | None = None) -> Project:
    """Validate project YAML ``text`` as if it were ``root/listrak-sync.yml``."""
    marked = load_marked(text, display or str(root / CONFIG_FILE))
    problems = list(marked.problems)
    if marked.data == {}:  # nothing but blanks and comments: a project with no sections
        raise ProjectError.single(
            marked.file,
            "the project file is empty",
            line=1,
            column=1,
            hint="start from `listrak-sync init` or examples/sample-project/listrak-sync.yml",
        )
    if not isinstance(marked.data, dict):
        raise ProjectError.single(marked.file, "the project file is a mapping of sections", line=1)
    try:
        config = ProjectConfig.model_validate(marked.data)
    except ValidationError as exc:
        problems.extend(_problems(exc, marked))
        raise ProjectError(problems) from None
    if problems:
        raise ProjectError(problems)
    return Project(root=root, config=config, marked=marked)


# --- pydantic error -> position and hint --------------------------------------------------


def _unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional so we see the container or model underneath."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp


def _union_member(tp: Any, step: Any) -> Any | None:
    """The member of a union that pydantic's loc element ``step`` names (a tag or a class name)."""
    for member in typing.get_args(tp):
        for meta in getattr(member, "__metadata__", ()):
            if getattr(meta, "tag", None) == step:
                return member
        model = _unwrap(member)
        if isinstance(model, type) and issubclass(model, BaseModel):
            if model.__name__ == step:
                return member
            type_field = model.model_fields.get("type")
            if type_field is not None and step in typing.get_args(type_field.annotation):
                return member
    return None


def _walk(loc: tuple[int | str, ...]) -> tuple[Path, type[BaseModel] | None, bool]:
    """Follow a pydantic ``loc`` through the config types and the data.

    Returns the data path it designates (union tags and other non-data steps removed), the model
    that owns the last step, and whether the step designates a mapping key rather than a value.
    """
    tp: Any = ProjectConfig
    owner: type[BaseModel] | None = ProjectConfig
    path: list[str | int] = []
    is_key = False
    for step in loc:
        if step == "[key]":
            is_key = True
            continue
        tp = _unwrap(tp)
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            owner = tp
            info = tp.model_fields.get(str(step))
            if info is None:
                info = next((f for f in tp.model_fields.values() if f.alias == step), None)
            path.append(step)
            tp = info.annotation if info is not None else Any
        elif origin in (list, Sequence) or origin is tuple:
            path.append(step)
            tp = typing.get_args(tp)[0]
        elif origin in (dict, Mapping):
            path.append(step)
            tp = typing.get_args(tp)[1]
        elif origin in (typing.Union, types.UnionType):
            member = _union_member(tp, step)
            if member is not None:
                tp = member
            # an unmatched step is pydantic naming a validator or union branch: not data
        # anything else (Any, scalars): the step cannot be data we know, so it is skipped
    # A `[key]` step comes after the key itself, so the path already ends at the key.
    return tuple(path), owner, is_key


def _problems(exc: ValidationError, marked: Marked) -> list[Problem]:
    """One problem per error, except that a missing field explained by a misspelt key in the
    same mapping ("atribute" for "attribute") is left to the misspelling's problem."""
    errors = exc.errors()
    misspelt: set[tuple[Path, str]] = set()
    for error in errors:
        if error["type"] == "extra_forbidden":
            path, _, _ = _walk(tuple(error["loc"]))
            misspelt.add((path[:-1], str(path[-1]) if path else ""))
    result: list[Problem] = []
    for error in errors:
        if error["type"] == "missing":
            path, _, _ = _walk(tuple(error["loc"]))
            typos = [k for parent, k in misspelt if parent == path[:-1]]
            if path and difflib.get_close_matches(str(path[-1]), typos, n=1, cutoff=0.6):
                continue
        result.append(_problem(error, marked))
    return result


def _fields(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _problem(error: ErrorDetails, marked: Marked) -> Problem:
    path, owner, is_key = _walk(tuple(error["loc"]))
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    hint: str | None = None
    where = ".".join(str(p) for p in path) or "(top level)"
    if kind == "extra_forbidden":
        name = str(path[-1]) if path else "?"
        message = f"unknown field {name!r}"
        if owner is not None:
            hint = did_you_mean(name, _fields(owner))
        return marked.problem(path, message, hint, key=True)
    if kind == "missing":
        name = str(path[-1]) if path else "?"
        parent = path[:-1]
        return marked.problem(parent, f"missing required field {name!r} in {_dotted(parent)}")
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        message = f"{where}: {error['input']!r} is not allowed (expected {expected})"
        choices = [c.strip().strip("'") for c in str(expected).replace(" or ", ", ").split(",")]
        close = difflib.get_close_matches(str(error["input"]), choices, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else None
    elif kind == "union_tag_invalid":
        message = f"{where}: unknown type {ctx.get('tag')!r}"
        hint = did_you_mean(str(ctx.get("tag")), _split(ctx.get("expected_tags", "")))
        path = (*path, "type")
    elif kind == "union_tag_not_found":
        message = f"{where}: missing `{ctx.get('discriminator', 'type').strip(chr(39))}`"
        hint = "one of: " + ", ".join(_split(ctx.get("expected_tags", ""))) if ctx else None
    elif kind == "string_pattern_mismatch" and is_key:
        message = f"{where}: name {path[-1]!r} is not allowed"
        # Project names allow `-`; source names (table names) do not.
        dash = ", _ and -" if "\\-" in str(ctx.get("pattern", "")) else " and _"
        hint = f"names start with a letter and use letters, digits{dash}"
    else:
        text = error["msg"].removeprefix("Value error, ")
        message = f"{where}: {text}"
        # A validator may raise PydanticCustomError with a `hint` in its context.
        hint = str(ctx["hint"]) if ctx.get("hint") else None
    return marked.problem(path, message, hint, key=is_key)


def _split(text: Any) -> list[str]:
    return [t.strip().strip("'") for t in str(text).split(",") if t.strip()]


def _dotted(path: Path) -> str:
    return ".".join(str(p) for p in path) or "the top level"
