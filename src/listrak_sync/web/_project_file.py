"""Edits of ``listrak-sync.yml`` from the console: round-tripped with ruamel.yaml so comments,
key order and formatting stay as the person who wrote the file left them; checked as
``validate`` checks the file before anything is written; refused when the file changed on disk
since the page was loaded (someone edited it in a text editor meanwhile).
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.util import load_yaml_guess_indent

from ..config.filters import FilterNode
from ..project.loader import CONFIG_FILE, Project, parse_project
from ..project.problems import Problem, ProjectError
from ..project.validate import check_project

__all__ = [
    "CHANGED_ON_DISK",
    "NAME",
    "Edit",
    "FileChanged",
    "entry_edit",
    "file_hash",
    "segment_edit",
    "write_edit",
]


# A name in the project file (segments, campaigns): it becomes table, field and file names.
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
CHANGED_ON_DISK = (
    "listrak-sync.yml changed on disk since this form was opened (someone edited it). "
    "Nothing was saved: open it again to start from the file as it is now."
)


class FileChanged(Exception):
    """The project file is not the one the page was made from."""


@dataclass(frozen=True)
class Edit:
    """A proposed new text of the project file, its diff and what ``validate`` says of it."""

    base: str  # hash of the text it was made from
    old: str
    new: str
    problems: list[Problem]

    @property
    def diff(self) -> list[str]:
        return list(
            difflib.unified_diff(
                self.old.splitlines(), self.new.splitlines(),
                fromfile=f"{CONFIG_FILE} (on disk)", tofile=f"{CONFIG_FILE} (saved)", lineterm="",
            )
        )  # fmt: skip


def file_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read(root: Path) -> str:
    return (root / CONFIG_FILE).read_text(encoding="utf-8")


def segment_edit(
    project: Project,
    base: str,
    name: str,
    description: str,
    node: FilterNode,
    *,
    original: str = "",
) -> Edit:
    """Set segment ``name`` to the filter ``node`` (renaming ``original``), on the file text
    whose hash is ``base``."""
    return entry_edit(
        project, base, "segments", name,
        {
            "description": description or None,
            "sql": None,
            "filter": node.model_dump(mode="python", by_alias=True, exclude_none=True),
        },
        original=original,
    )  # fmt: skip


def entry_edit(
    project: Project,
    base: str,
    section: str,
    name: str,
    values: dict[str, Any],
    *,
    original: str = "",
) -> Edit:
    """Set the keys ``values`` of entry ``name`` of ``section`` (a value None removes its key;
    keys not named stay as they are, comments included), on the file text whose hash is
    ``base``. ``original``: the entry's name before a rename (it keeps its place)."""
    old = _read(project.root)
    if file_hash(old) != base:
        raise FileChanged(CONFIG_FILE)
    yaml, data = _load(old)
    entries = data.get(section)
    if entries is None:
        entries = data[section] = CommentedMap()
    existing = entries.get(original or name)
    entry = existing if isinstance(existing, CommentedMap) else CommentedMap()
    for key, value in values.items():
        if value is None:
            entry.pop(key, None)
        elif key not in entry or _plain(entry[key]) != value:
            entry[key] = _styled(value)
    if original and original != name and original in entries:
        position = list(entries).index(original)
        del entries[original]
        entries.insert(position, name, entry)
    elif existing is not entry:
        entries[name] = entry
    out = io.StringIO()
    yaml.dump(data, out)
    new = out.getvalue()
    return Edit(base=base, old=old, new=new, problems=_problems(project.root, new))


def _plain(value: Any) -> Any:
    """A loaded YAML value as plain dicts and lists (to compare with a new value)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _load(text: str) -> tuple[YAML, Any]:
    """A round-trip YAML with the file's own indentation: the first of the usual layouts that
    dumps the file back unchanged (else the one ruamel guesses)."""
    _, sequence, offset = load_yaml_guess_indent(text)
    layouts = [
        (2, 4, 2),
        (2, 2, 0),
        (4, 4, 2),
        (4, 6, 4),
        (4, 4, 0),
        (2, sequence or 2, offset or 0),
    ]
    for mapping, seq, off in layouts:
        yaml = YAML()  # round trip
        yaml.preserve_quotes = True
        yaml.width = 4096  # never re-wrap a long line someone wrote
        yaml.indent(mapping=mapping, sequence=seq, offset=off)
        data = yaml.load(text)
        out = io.StringIO()
        yaml.dump(data, out)
        if out.getvalue() == text:
            break
    return yaml, data


def _styled(value: Any) -> Any:
    """Groups in block style, each condition on one line (``{attribute: x, op: eq, value: 1}``)
    as the sample project writes them."""
    if isinstance(value, dict):
        styled = CommentedMap((k, _styled(v)) for k, v in value.items())
        if all(_scalars(v) for v in value.values()):
            styled.fa.set_flow_style()
        return styled
    if isinstance(value, list):
        seq = CommentedSeq(_styled(v) for v in value)
        if all(not isinstance(v, dict | list) for v in value):
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return value


def _scalars(value: Any) -> bool:
    """A scalar, or a list of scalars: what fits on one line of a flow mapping."""
    if isinstance(value, list):
        return all(not isinstance(v, dict | list) for v in value)
    return not isinstance(value, dict)


def _problems(root: Path, text: str) -> list[Problem]:
    """What ``validate`` would say of ``text`` as the project file."""
    try:
        project = parse_project(text, root)
    except ProjectError as exc:
        return exc.problems
    return check_project(project)


def write_edit(root: Path, edit: Edit) -> None:
    """Write ``edit.new`` in place of the file it was made from (its mode kept); refuse if the
    file changed since, or if ``validate`` finds a problem in the new text now."""
    if file_hash(_read(root)) != edit.base:
        raise FileChanged(CONFIG_FILE)
    problems = _problems(root, edit.new)
    if problems:
        raise ProjectError(problems)
    target = root / CONFIG_FILE
    mode = target.stat().st_mode & 0o777
    handle, temporary = tempfile.mkstemp(dir=root, prefix=".listrak-sync.yml.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(edit.new)
        os.chmod(temporary, mode)
        if file_hash(_read(root)) != edit.base:  # a last look: an editor may have saved now
            raise FileChanged(CONFIG_FILE)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
