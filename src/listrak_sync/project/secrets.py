"""Resolve credential values from the environment and the project's secrets file.

The secrets file is a YAML mapping ``name: value``. It must not be readable by group or others
(mode 0600 or stricter); a looser file is refused rather than used, since a leaked secret cannot
be taken back.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, SecretStr

from ..config.credentials import EnvRef, ListrakCredential, SecretFileRef, SftpCredential
from ..config.destinations import ProjectFilesDestination
from ..config.files import SftpTarget
from .loader import Project
from .problems import Problem, ProjectError, read_text
from .yaml_marks import Marked
from .yaml_marks import Path as DataPath

__all__ = [
    "ResolvedListrak",
    "ResolvedSftp",
    "credential_problems",
    "lookup_secret",
    "read_secrets_file",
    "resolve_listrak",
    "resolve_secret",
    "resolve_sftp",
    "secret_refs",
    "sftp_target",
]


@dataclass(frozen=True)
class ResolvedListrak:
    """A Listrak integration's credentials, ready for the client."""

    client_id: str
    client_secret: SecretStr


@dataclass(frozen=True)
class ResolvedSftp:
    username: str
    password: SecretStr | None
    private_key: SecretStr | None
    passphrase: SecretStr | None


def read_secrets_file(path: Path) -> dict[str, SecretStr]:
    """The secrets file as ``name -> SecretStr``; empty if the file does not exist.

    ProjectError when it is readable by others, not YAML, or not a flat mapping of text.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        return {}
    if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        mode = stat.S_IMODE(info.st_mode)
        raise ProjectError.single(
            path,
            f"secrets file is readable by others (mode {mode:04o}); refusing to use it",
            line=0,
            hint=f"run: chmod 600 {path}",
        )
    try:
        data = yaml.safe_load(read_text(path, what="secrets file"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        # The message is ours: YAML errors quote the offending text, which may be a secret.
        raise ProjectError.single(
            path,
            "secrets file is not valid YAML",
            line=mark.line + 1 if mark else 0,
            column=mark.column + 1 if mark else 0,
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ProjectError.single(path, "secrets file must be a mapping of name: value", line=1)
    secrets: dict[str, SecretStr] = {}
    for key, value in data.items():
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise ProjectError.single(path, f"secret {key!r} must be text")
        secrets[str(key)] = SecretStr(str(value))
    return secrets


def lookup_secret(
    ref: str | EnvRef | SecretFileRef,
    secrets: Mapping[str, SecretStr],
    secrets_path: Path,
) -> SecretStr:
    """The value of ``ref`` (a literal, ``{env: NAME}`` or ``{secret: NAME}``) from the
    environment or ``secrets`` (read from ``secrets_path``); LookupError says what is missing."""
    if isinstance(ref, str):
        return SecretStr(ref)
    if isinstance(ref, EnvRef):
        value = os.environ.get(ref.env)
        if value is None:
            raise LookupError(f"environment variable {ref.env} is not set")
        return SecretStr(value)
    if ref.secret not in secrets:
        if not secrets and not secrets_path.exists():
            raise LookupError(
                f"secret {ref.secret!r}: the secrets file {secrets_path} is missing"
                f" (copy {secrets_path.with_name('secrets.example.yml').name} to"
                f" {secrets_path.name} and fill it in; chmod 600)"
            )
        raise LookupError(f"secret {ref.secret!r} is not in {secrets_path.name}")
    return secrets[ref.secret]


def _fields(credential: ListrakCredential | SftpCredential) -> dict[str, object]:
    return {
        name: getattr(credential, name)
        for name in type(credential).model_fields
        if name != "type" and getattr(credential, name) is not None
    }


def secret_refs(config: BaseModel) -> list[tuple[DataPath, EnvRef | SecretFileRef]]:
    """Every value of ``config`` written ``{env: NAME}`` or ``{secret: NAME}``, with its path in
    the file (the YAML keys, so aliases such as ``schema``).

    Found by the type of the value, wherever it sits (a model's field, a mapping, a list), so a
    new secret field (annotated ``SecretValue``) is checked by ``validate`` without being listed
    here: tests/project/test_secret_refs.py holds the models to the shapes this walk descends.
    """
    refs: list[tuple[DataPath, EnvRef | SecretFileRef]] = []

    def walk(value: object, path: DataPath) -> None:
        if isinstance(value, EnvRef | SecretFileRef):
            refs.append((path, value))
        elif isinstance(value, BaseModel):
            for name, info in type(value).model_fields.items():
                walk(getattr(value, name), (*path, info.alias or name))
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, (*path, key))
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                walk(item, (*path, index))

    walk(config, ())
    return refs


def credential_problems(project: Project) -> list[Problem]:
    """Every credential value that cannot be resolved (unset variable, missing secret, a secrets
    file with loose permissions), each at the place it is referenced."""
    secrets_path = project.path(project.config.secrets_file)
    try:
        secrets = read_secrets_file(secrets_path)
    except ProjectError as exc:
        return list(exc.problems)
    problems: list[Problem] = []
    for path, ref in secret_refs(project.config):
        try:
            lookup_secret(ref, secrets, secrets_path)
        except LookupError as exc:
            if isinstance(ref, EnvRef):
                hint: str | None = f"export {ref.env}=..."
            elif secrets_path.exists():
                hint = f"add `{getattr(ref, 'secret', '')}: ...` to {secrets_path}"
            else:
                hint = None  # the message says to copy secrets.example.yml
            problems.append(project.problem(path, str(exc), hint))
    return problems


def resolve_secret(
    project: Project,
    ref: EnvRef | SecretFileRef,
    path: DataPath,
    *,
    marked: Marked | None = None,
) -> SecretStr:
    """A value written ``{env: NAME}`` or ``{secret: NAME}`` at ``path`` (e.g. an event sink's
    write key); an unresolvable one is a ProjectError at that place in ``marked`` (the project
    file unless the value came from another file)."""
    secrets_path = project.path(project.config.secrets_file)
    try:
        return lookup_secret(ref, read_secrets_file(secrets_path), secrets_path)
    except LookupError as exc:
        where = marked or project.marked
        dotted = ".".join(str(p) for p in path)
        raise ProjectError([where.problem(path, f"{dotted}: {exc}")]) from None


def _resolve(
    project: Project, name: str
) -> tuple[ListrakCredential | SftpCredential, dict[str, SecretStr]]:
    credential = project.config.credentials.get(name)
    if credential is None:
        raise ProjectError.single(project.config_file, f"no credential named {name!r}")
    secrets_path = project.path(project.config.secrets_file)
    secrets = read_secrets_file(secrets_path)
    values: dict[str, SecretStr] = {}
    for field, ref in _fields(credential).items():
        assert isinstance(ref, str | EnvRef | SecretFileRef)
        try:
            values[field] = lookup_secret(ref, secrets, secrets_path)
        except LookupError as exc:
            raise ProjectError([project.problem(("credentials", name, field), str(exc))]) from None
    return credential, values


def resolve_listrak(project: Project, name: str) -> ResolvedListrak:
    """The client id and secret of the Listrak credential ``name``."""
    credential, values = _resolve(project, name)
    if not isinstance(credential, ListrakCredential):
        raise ProjectError.single(project.config_file, f"credential {name!r} is not a Listrak one")
    return ResolvedListrak(values["client_id"].get_secret_value(), values["client_secret"])


def resolve_sftp(project: Project, name: str) -> ResolvedSftp:
    """The login of the SFTP credential ``name``."""
    credential, values = _resolve(project, name)
    if not isinstance(credential, SftpCredential):
        raise ProjectError.single(project.config_file, f"credential {name!r} is not an SFTP one")
    return ResolvedSftp(
        values["username"].get_secret_value(),
        values.get("password"),
        values.get("private_key"),
        values.get("passphrase"),
    )


def sftp_target(project: Project, destination: str) -> SftpTarget:
    """The upload target of the ``listrak_files`` destination ``destination``: its ``sftp:``
    settings with the login of the credential it names (key text stays in memory)."""
    found = project.config.destinations.get(destination)
    if not isinstance(found, ProjectFilesDestination) or found.sftp is None:
        raise ProjectError.single(
            project.config_file,
            f"no listrak_files destination named {destination!r} with an `sftp:` block",
        )
    settings = found.sftp
    login = resolve_sftp(project, settings.credential)
    known_hosts = project.path(str(settings.known_hosts))
    return SftpTarget(
        **settings.model_dump(
            include={"host", "port", "remote_dir", "attempts", "connect_timeout", "credential"}
        ),
        known_hosts=known_hosts,
        username=login.username,
        password=login.password,
        private_key_data=login.private_key,
        passphrase=login.passphrase,
    )
