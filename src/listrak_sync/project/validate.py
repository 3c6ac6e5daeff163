"""``validate``: every problem in a project, each at its file, line and column.

Stages: YAML and pydantic (loader), references between sections (checks), credentials (env vars,
secrets file), and — when the warehouse can be opened — segment SQL and filters, the
attributes each campaign destination reads, and the state store's database when ``state.store``
is ``warehouse``.
"""

from __future__ import annotations

from pathlib import Path as FsPath

from yaml.nodes import ScalarNode

from ..audiences.campaigns import CampaignAudience
from ..audiences.errors import AudienceError, Issue
from ..audiences.segments import SegmentResolver
from ..warehouse import Warehouse, WarehouseError, connect_state
from .checks import reference_problems
from .connection import open_warehouse, state_target
from .loader import Project, load_project
from .problems import Problem, ProjectError
from .secrets import credential_problems
from .yaml_marks import Path, Position

__all__ = [
    "check_project",
    "sql_position",
    "state_problems",
    "validate_project",
    "warehouse_problems",
]


def validate_project(
    root: str | FsPath,
    *,
    warehouse: Warehouse | None = None,
    check_warehouse: bool = True,
) -> tuple[Project | None, list[Problem]]:
    """The project (None if it does not load) and every problem found, in file order."""
    try:
        project = load_project(root)
    except ProjectError as exc:
        return None, exc.problems
    return project, check_project(project, warehouse=warehouse, check_warehouse=check_warehouse)


def check_project(
    project: Project,
    *,
    warehouse: Warehouse | None = None,
    check_warehouse: bool = True,
    check_credentials: bool = True,
) -> list[Problem]:
    """Every problem in a loaded project (``validate``'s checks), in file order.

    ``warehouse`` is used instead of opening the project's (read-only) when given;
    ``check_credentials=False`` skips the credentials (for a caller that brings its client)."""
    problems = reference_problems(project)
    if check_credentials:
        problems += credential_problems(project)
    if check_warehouse:
        owned = warehouse is None
        try:
            if warehouse is None:
                warehouse = open_warehouse(project, read_only=True)
        except ProjectError as exc:
            problems += exc.problems
        else:
            try:
                problems += warehouse_problems(project, warehouse)
            finally:
                if owned:
                    warehouse.close()
        problems += state_problems(project)
    return sorted(set(problems))


def state_problems(project: Project) -> list[Problem]:
    """With ``state.store: warehouse``: whether its database can keep the state and lets this
    user in (the tables are made by the first sync, not here)."""
    config = project.config.state
    if config.store != "warehouse":
        return []
    where = ("state", "connection") if config.connection is not None else ("state", "store")
    try:
        connection = connect_state(state_target(project), base_dir=project.root)
    except ProjectError as exc:
        return exc.problems
    except WarehouseError as exc:
        return [project.problem(where, f"cannot open the state store: {exc}")]
    connection.close()
    return []


def warehouse_problems(project: Project, warehouse: Warehouse) -> list[Problem]:
    """Problems only the warehouse can reveal: tables, columns, segment SQL and filters."""
    config = project.config
    resolver = SegmentResolver(config, warehouse)
    schema = resolver.schema
    problems: list[Problem] = []
    try:
        schema.tables()
    except WarehouseError as exc:
        return [project.problem(("warehouse", "connection"), f"cannot list tables: {exc}")]
    for role in ("customer_table", "profile_table"):
        name = getattr(config.warehouse, role)
        if schema.table(name) is None:
            problems.append(
                project.problem(
                    ("warehouse", role),
                    f"table {name!r} is not in the warehouse",
                    schema.table_hint(name) or "run `listrak-sync sample-data` for sample tables",
                )
            )
    if problems:
        return problems  # segment and campaign checks would only repeat the same news
    key = config.warehouse.customer_key
    if schema.column(config.warehouse.customer_table, key) is None:
        problems.append(
            project.problem(
                ("warehouse", "customer_key"),
                f"{config.warehouse.customer_table} has no column {key!r}",
                schema.column_hint(config.warehouse.customer_table, key),
            )
        )
        return problems
    broken: set[str] = set()
    for name in config.segments:
        try:
            resolver.select(name)
        except AudienceError as exc:
            broken.add(name)
            problems += [_segment_problem(project, name, issue) for issue in exc.issues]
    for name, campaign in config.campaigns.items():
        if campaign.segment in broken or any(x in broken for x in campaign.exclude):
            continue
        if campaign.segment not in config.segments or any(
            x not in config.segments for x in campaign.exclude
        ):
            continue  # reported by the reference checks
        try:
            audience = CampaignAudience(config, warehouse, name, segments=resolver)
            destinations = audience.destinations(strict=False)
        except AudienceError:  # pragma: no cover - the campaign and segments exist here
            continue
        for target, rows in destinations.items():
            problems += [
                _destination_problem(project, name, target, issue) for issue in rows.issues()
            ]
    return problems


def _segment_problem(project: Project, name: str, issue: Issue) -> Problem:
    base: Path = ("segments", name)
    segment = project.config.segments[name]
    if segment.sql is not None and issue.sql_line is not None:
        pos = sql_position(project, (*base, "sql"), issue.sql_line, issue.sql_column or 1)
        return Problem(project.marked.file, pos.line, pos.column, issue.message, issue.hint)
    if segment.filter is not None:
        return project.problem((*base, "filter", *issue.path), issue.message, issue.hint)
    return project.problem(base, issue.message, issue.hint)


def sql_position(project: Project, path: Path, line: int, column: int) -> Position:
    """Where line/column of the SQL held by the YAML scalar at ``path`` is in the file."""
    node: ScalarNode | None = project.marked.scalars.get(path)
    if node is None:
        return project.marked.value_at(path)
    start_line = node.start_mark.line + 1
    start_column = node.start_mark.column + 1
    if node.style in ("|", ">"):
        # The text starts on the line after the indicator, at the block's indentation.
        lines = project.marked.text.splitlines()
        body = lines[start_line:] if start_line < len(lines) else []
        first = next((text for text in body if text.strip()), "")
        indent = len(first) - len(first.lstrip(" "))
        return Position(start_line + line, indent + column)
    quote = 1 if node.style in ('"', "'") else 0
    if line == 1:
        return Position(start_line, start_column + quote + column - 1)
    return Position(start_line + line - 1, column)


def _destination_problem(project: Project, campaign: str, target: str, issue: Issue) -> Problem:
    config = project.config
    base: Path = ("campaigns", campaign)
    destination = config.destinations[target]
    edits = config.campaigns[campaign].destinations.get(target)
    role = issue.path[0] if issue.path else ""
    detail = issue.path[1] if len(issue.path) > 1 else None
    candidates: list[Path] = []
    if role == "attributes":
        candidates += _attribute_paths(project, campaign, target, str(detail))
    elif role == "dedupe":
        prefer = config.campaigns[campaign].dedupe.prefer
        candidates += [
            (*base, "dedupe", "prefer", i, "column")
            for i, p in enumerate(prefer)
            if p.column == detail
        ]
    elif role == "key_column":
        candidates.append(("destinations", target, "key_column"))
    elif role == "consent_table":
        candidates.append(("destinations", target, "consent_table"))
    if role in ("attribute_table", "customer_key", "attributes", "key_column"):
        if edits is not None and edits.attribute_table is not None:
            candidates.append((*base, "destinations", target, "attribute_table"))
        if config.campaigns[campaign].attribute_table is not None:
            candidates.append((*base, "attribute_table"))
        if getattr(destination, "attribute_table", None) is not None:
            candidates.append(("destinations", target, "attribute_table"))
        candidates.append(("warehouse", "profile_table"))
    located = next((p for p in candidates if p in project.marked.values), None)
    message = f"campaign {campaign!r} → {target}: {issue.message}"
    return project.problem(located or ("destinations", target), message, issue.hint)


def _attribute_paths(project: Project, campaign: str, target: str, column: str) -> list[Path]:
    """Where the attribute reading ``column`` is written: campaign edits first."""
    config = project.config
    found: list[Path] = []
    edits = config.campaigns[campaign].destinations.get(target)

    def match(attribute: object) -> bool:
        return getattr(attribute, "column", None) == column

    if edits is not None:
        for key in ("add_attributes", "attributes"):
            for i, attribute in enumerate(getattr(edits, key) or []):
                if match(attribute):
                    found.append(("campaigns", campaign, "destinations", target, key, i))
    destination = config.destinations[target]
    for i, attribute in enumerate(getattr(destination, "attributes", [])):
        if match(attribute):
            found.append(("destinations", target, "attributes", i))
    return found
