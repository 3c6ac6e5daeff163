"""One walk finds every secret reference of a project, by the type of its value, so `validate`
checks a new secret field without anyone listing it (project/secrets.py, ``secret_refs``)."""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path

from pydantic import BaseModel

from listrak_sync.config.credentials import EnvRef, SecretFileRef, SecretValue, Value
from listrak_sync.config.models import ProjectConfig
from listrak_sync.project.loader import parse_project
from listrak_sync.project.secrets import credential_problems, secret_refs

# Names a secret goes by; a field so named must take its value by reference.
SECRET_NAME = re.compile(r"(^|_)(password|passphrase|secret|token|private_key|write_key|api_key)$")

# What `secret_refs` descends: models, mappings, lists and tuples (and unions of them).
DESCENDED: tuple[object, ...] = (dict, list, tuple, typing.Union, types.UnionType)


def _args(annotation: object) -> tuple[object, ...]:
    if typing.get_origin(annotation) is typing.Annotated:
        return (typing.get_args(annotation)[0],)
    return typing.get_args(annotation)


def _holds_a_ref(annotation: object, seen: set[type] | None = None) -> bool:
    seen = set() if seen is None else seen
    if annotation in (EnvRef, SecretFileRef):
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return False
        seen.add(annotation)
        return any(_holds_a_ref(f.annotation, seen) for f in annotation.model_fields.values())
    return any(_holds_a_ref(arg, seen) for arg in _args(annotation))


def _fields(model: type[BaseModel], path: str = "") -> typing.Iterator[tuple[str, str, object]]:
    """(path, field name, annotation) of every field of ``model`` and the models it holds."""
    seen: set[type] = set()

    def visit(annotation: object, where: str) -> typing.Iterator[tuple[str, str, object]]:
        if annotation in (EnvRef, SecretFileRef):
            return  # the reference itself: `secret` names a key of the secrets file
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation in seen:
                return
            seen.add(annotation)
            for name, info in annotation.model_fields.items():
                yield f"{where}.{name}", name, info.annotation
                yield from visit(info.annotation, f"{where}.{name}")
        for arg in _args(annotation):
            yield from visit(arg, where)

    yield from visit(model, path or model.__name__)


def test_every_secret_sits_where_the_walk_descends() -> None:
    # A reference inside a set, a dataclass or any other container would be missed by the walk.
    def check(annotation: object, where: str) -> None:
        if annotation in (EnvRef, SecretFileRef) or not _holds_a_ref(annotation):
            return
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return  # its own fields are visited by _fields
        origin = typing.get_origin(annotation)
        if origin is not typing.Annotated:
            assert origin in DESCENDED, f"{where}: a reference inside {annotation}"
        for arg in _args(annotation):
            check(arg, where)

    fields = list(_fields(ProjectConfig))
    for where, _name, annotation in fields:
        check(annotation, where)
    assert len([f for f in fields if _holds_a_ref(f[2])]) > 10  # the walk above saw the models


def test_fields_named_like_secrets_take_references_only() -> None:
    fields = _fields(ProjectConfig)
    secret_like = [(where, a) for where, name, a in fields if SECRET_NAME.search(name)]
    assert len(secret_like) >= 6, secret_like  # client_secret, password, private_key ...
    for where, annotation in secret_like:
        if annotation is type(None):
            continue  # refused in the file (an `sftp:` block's login comes from a credential)
        # SecretValue (a reference, never a literal): not Value (text allowed), not a plain str.
        assert _holds_a_ref(annotation), f"{where} is a secret the walk cannot see"
        assert str not in _flat(annotation), f"{where} is a secret written as plain text"


def _flat(annotation: object) -> set[object]:
    out = {annotation}
    for arg in _args(annotation):
        out |= _flat(arg)
    return out


class _Later(BaseModel):
    """A section someone adds later, with secrets in every shape the walk descends."""

    token: SecretValue
    spare: SecretValue | None = None
    headers: dict[str, SecretValue] = {}
    keys: list[SecretValue] = []
    client_id: Value = "id"


def test_a_new_secret_field_is_found_without_being_listed() -> None:
    later = _Later.model_validate(
        {
            "token": {"env": "T"},
            "spare": {"secret": "s"},
            "headers": {"X-Key": {"env": "H"}},
            "keys": [{"secret": "k0"}, {"env": "K1"}],
            "client_id": {"env": "ID"},
        }
    )
    assert [(path, ref.model_dump()) for path, ref in secret_refs(later)] == [
        (("token",), {"env": "T"}),
        (("spare",), {"secret": "s"}),
        (("headers", "X-Key"), {"env": "H"}),
        (("keys", 0), {"secret": "k0"}),
        (("keys", 1), {"env": "K1"}),
        (("client_id",), {"env": "ID"}),
    ]


def test_the_state_password_is_checked_by_validate(tmp_path: Path) -> None:
    # Not in the hand-kept list this walk replaced: `validate` passed a state password that
    # no variable held, and the first sync failed instead.
    project = parse_project(
        "warehouse:\n"
        "  connection: postgresql://u@h/db\n"
        "state:\n"
        "  store: warehouse\n"
        "  schema: sync_state\n"
        "  password: {env: NO_SUCH_STATE_PASSWORD}\n",
        tmp_path,
    )
    (problem,) = credential_problems(project)
    assert "NO_SUCH_STATE_PASSWORD is not set" in str(problem)
    assert problem.line == 6


def test_every_reference_of_a_full_project_is_found(tmp_path: Path) -> None:
    project = parse_project(
        "warehouse: {connection: postgresql://u@h/db, password: {env: W}}\n"
        "credentials:\n"
        "  email: {type: listrak, client_id: {env: I}, client_secret: {secret: e}}\n"
        "  upload: {type: sftp, username: u, private_key: {secret: k}, passphrase: {env: P}}\n"
        "sources:\n"
        "  contacts:\n"
        "    type: listrak_email\n"
        "    credential: email\n"
        "    list_id: 1\n"
        "    events: {sink: {type: http, url: 'http://127.0.0.1:1/', write_key: {env: S}}}\n"
        "alerts:\n"
        "  channels:\n"
        "    ops: {type: webhook, url: {env: U}, headers: {X-Token: {secret: h}}}\n",
        tmp_path,
    )
    found = {".".join(map(str, path)) for path, _ref in secret_refs(project.config)}
    assert found == {
        "warehouse.password",
        "credentials.email.client_id",
        "credentials.email.client_secret",
        "credentials.upload.private_key",
        "credentials.upload.passphrase",
        "sources.contacts.events.sink.write_key",
        "alerts.channels.ops.url",
        "alerts.channels.ops.headers.X-Token",
    }
