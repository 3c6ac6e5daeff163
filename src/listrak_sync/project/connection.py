"""Open a project's warehouse."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from ..warehouse import Warehouse, WarehouseError, connect, parse
from .loader import Project
from .problems import ProjectError
from .secrets import resolve_secret

__all__ = ["open_warehouse", "state_target", "warehouse_target"]


def warehouse_target(project: Project) -> BaseModel:
    """The typed config of the project's warehouse, with the password its reference names
    (ProjectError at ``warehouse.password`` when it cannot be resolved)."""
    config = project.config.warehouse
    try:
        target = parse(config.connection)
    except WarehouseError as exc:
        raise ProjectError(
            [project.problem(("warehouse", "connection"), f"cannot open the warehouse: {exc}")]
        ) from None
    if config.password is not None:
        password = resolve_secret(project, config.password, ("warehouse", "password"))
        if not hasattr(target, "with_password"):
            raise ProjectError(
                [
                    project.problem(
                        ("warehouse", "password"),
                        f"the {getattr(target, 'engine', '?')} warehouse takes no password",
                    )
                ]
            )
        target = target.with_password(password)
    return target


def state_target(project: Project) -> BaseModel:
    """The typed config of the database that keeps the sync state with ``state.store:
    warehouse``: ``state.connection`` (with ``state.password``) or else the warehouse."""
    config = project.config.state
    if config.connection is None:
        return warehouse_target(project)
    try:
        target = parse(config.connection)
    except WarehouseError as exc:
        raise ProjectError(
            [project.problem(("state", "connection"), f"cannot open the state store: {exc}")]
        ) from None
    if config.password is not None and hasattr(target, "with_password"):
        password = resolve_secret(project, config.password, ("state", "password"))
        target = target.with_password(password)
    return target


def open_warehouse(project: Project, *, read_only: bool = False) -> Warehouse:
    """Connect to the project's warehouse; a missing DuckDB file is an error, not a new file
    (a typo in the path would otherwise give an empty warehouse and empty audiences)."""
    target = warehouse_target(project)
    try:
        path = getattr(target, "path", None)
        if isinstance(path, str) and path != ":memory:":
            file = Path(path) if Path(path).is_absolute() else project.root / path
            if not file.exists():
                raise ProjectError(
                    [
                        project.problem(
                            ("warehouse", "connection"),
                            f"warehouse file {file} does not exist",
                            "create sample data with `listrak-sync sample-data`, or point "
                            "warehouse.connection at your DuckDB file",
                        )
                    ]
                )
            if read_only and hasattr(target, "read_only"):
                target = target.model_copy(update={"read_only": True})
        warehouse = connect(target, base_dir=project.root)
        keep = getattr(warehouse, "keep_scratch", None)
        if keep is not None:
            # Caches derived from the warehouse (normalised phones) outlive the connection in
            # the project's state folder, not in the warehouse.
            keep(project.root / ".listrak-sync" / "cache")
        return warehouse
    except WarehouseError as exc:
        raise ProjectError(
            [project.problem(("warehouse", "connection"), f"cannot open the warehouse: {exc}")]
        ) from None
