"""``/segments``: the list with sizes, one segment's insights, and the builder that saves a
structured filter into ``listrak-sync.yml``.

Sizes are the ``segments size`` numbers (``audiences.insights``), computed in a worker thread
per request; the builder's live size is asked for by htmx after each edit (debounced, and a
newer edit cancels the request still running in the browser: ``hx-sync="this:replace"``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml
from ruamel.yaml.scalarstring import LiteralScalarString
from sqlglot import exp
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from ..audiences.errors import AudienceError
from ..audiences.insights import segment_insights
from ..audiences.schema import Kind, kind_of, table_expression
from ..audiences.segments import SegmentResolver
from ..config.models import Segment
from ..masking import is_personal, mask_value
from ..project.connection import open_warehouse
from ..project.loader import Project
from ..project.problems import ProjectError
from ..warehouse import Warehouse
from ._app import Console, Page
from ._builder import OPERATORS, Draft, draft_from_filter, draft_from_form
from ._project_file import (
    CHANGED_ON_DISK,
    NAME,
    FileChanged,
    entry_edit,
    file_hash,
    segment_edit,
    write_edit,
)

__all__ = ["routes", "warehouse"]

_PICK = 30  # distinct values offered per column
_DRAFT = "__console_draft__"  # the name a draft is compiled under (not a valid segment name)


@contextmanager
def warehouse(project: Project) -> Iterator[Warehouse]:
    """The project's warehouse, read-only (the console never writes to it)."""
    opened = open_warehouse(project, read_only=True)
    try:
        yield opened
    finally:
        opened.close()


def routes(console: Console) -> list[BaseRoute]:
    def listing(page: Page) -> Response:
        segments = page.project.config.segments
        return page.render("segments.html", segments=segments)

    def size(page: Page) -> Response:
        name = page.request.path_params["name"]
        with warehouse(page.project) as opened:
            resolver = SegmentResolver(page.project.config, opened)
            try:
                insights = segment_insights(resolver, name, reach=False)
            except AudienceError as exc:
                return page.render("size.html", errors=[str(i) for i in exc.issues])
        return page.render("size.html", insights=insights)

    def overlap(page: Page) -> Response:
        """How many of this segment's members are in each other segment."""
        name = page.request.path_params["name"]
        rows: list[dict[str, Any]] = []
        with warehouse(page.project) as opened:
            resolver = SegmentResolver(page.project.config, opened)
            try:
                size = resolver.size(name)
            except AudienceError as exc:
                return page.render("error_fragment.html", lines=[str(i) for i in exc.issues])
            for other in page.project.config.segments:
                if other == name:
                    continue
                try:
                    both = exp.intersect(resolver.select(name), resolver.select(other))
                    query = exp.select(exp.Count(this=exp.Star())).from_(both.subquery("o"))
                    table = opened.query(query.sql(dialect=opened.dialect))
                    count = int(table.column(0)[0].as_py())
                    rows.append({"segment": other, "both": count,
                                 "share": 100.0 * count / size if size else 0.0})  # fmt: skip
                except AudienceError as exc:
                    rows.append({"segment": other, "error": str(exc)})
        rows.sort(key=lambda row: -int(row.get("both", -1)))
        return page.render("overlap.html", name=name, size=size, rows=rows)

    def detail(page: Page) -> Response:
        name = page.request.path_params["name"]
        segment = page.project.config.segments.get(name)
        if segment is None:
            return page.render("error.html", 404, heading="No such segment", lines=[name])
        by = page.field("by") or None
        with warehouse(page.project) as opened:
            resolver = SegmentResolver(page.project.config, opened)
            columns = _columns(page.project, opened)
            try:
                insights = segment_insights(resolver, name, by=by)
                sql, errors = resolver.sql(name), []
            except AudienceError as exc:
                insights, sql, errors = None, "", [str(i) for i in exc.issues]
        definition = segment.model_dump(mode="json", by_alias=True, exclude_none=True)
        editable = (
            segment.filter is not None
            and draft_from_filter(name, segment.description or "", segment.filter) is not None
        )
        return page.render(
            "segment.html", name=name, segment=segment, insights=insights, sql=sql,
            errors=errors, columns=columns, by=by, editable=editable,
            definition=yaml.safe_dump(definition, sort_keys=False),
            chart=_bars(insights.breakdown if insights else [], personal=is_personal(by or "")),
        )  # fmt: skip

    def new(page: Page) -> Response:
        draft = Draft(base=_base(page.project))
        return _builder_page(page, draft)

    def edit(page: Page) -> Response:
        name = page.request.path_params["name"]
        segment = page.project.config.segments.get(name)
        if segment is not None and segment.sql is not None:
            return _sql_page(page, name, segment.description or "", segment.sql, name)
        draft = (
            draft_from_filter(name, segment.description or "", segment.filter)
            if segment is not None and segment.filter is not None
            else None
        )
        if draft is None:
            return page.render(
                "error.html", 409, heading=f"Segment {name} is edited in the project file",
                lines=["The builder edits filters of conditions on customer columns, in groups "
                       "joined by all/any. SQL segments, `not` and aggregates over related "
                       "tables are edited in listrak-sync.yml."],
            )  # fmt: skip
        draft.base = _base(page.project)
        return _builder_page(page, draft)

    def rebuild(page: Page) -> Response:
        assert page.form is not None
        draft = draft_from_form(page.form)
        if not page.request.headers.get("hx-request"):
            return _builder_page(page, draft)
        with warehouse(page.project) as opened:
            kinds = _columns(page.project, opened)
            values = _pick_lists(page.project, opened, draft, kinds)
        return page.render(
            "builder_form.html", draft=draft, kinds=kinds, values=values, operators=OPERATORS,
        )  # fmt: skip

    def draft_size(page: Page) -> Response:
        assert page.form is not None
        draft = draft_from_form(page.form)
        with warehouse(page.project) as opened:
            kinds = _columns(page.project, opened)
            node = draft.filter(kinds)
            errors = [
                f"{row.column}: {row.error}" for g in draft.groups for row in g.rows if row.error
            ]
            if node is None:
                return page.render("size.html", errors=errors, empty=not errors)
            config = page.project.config
            drafted = config.model_copy(
                update={"segments": {**config.segments, _DRAFT: Segment(filter=node)}}
            )
            resolver = SegmentResolver(drafted, opened)
            try:
                with console.live.running(page.live_key(_part(page)), opened):
                    insights = segment_insights(resolver, _DRAFT, reach=_reach(page))
            except AudienceError as exc:
                return page.render("size.html", errors=[str(i) for i in exc.issues])
        return page.render("size.html", insights=insights, part=_part(page))

    def review(page: Page) -> Response:
        """The diff of listrak-sync.yml the save would make, and what validate says of it."""
        found = _edit(page)
        if isinstance(found, Response):
            return found
        draft, edit = found
        return page.render(
            "review.html", draft=draft, edit=edit, problems=[str(p) for p in edit.problems]
        )

    def save(page: Page) -> Response:
        found = _edit(page)
        if isinstance(found, Response):
            return found
        draft, edit = found
        try:
            write_edit(page.project.root, edit)
        except FileChanged:
            return _builder_page(page, draft, 409, error=CHANGED_ON_DISK)
        except ProjectError as exc:
            return page.render("review.html", 400, draft=draft, edit=edit,
                               problems=[str(p) for p in exc.problems])  # fmt: skip
        return RedirectResponse(f"/segments/{draft.name}?saved=1", status_code=303)

    def _edit(page: Page) -> tuple[Draft, Any] | Response:
        assert page.form is not None
        draft = draft_from_form(page.form)
        segments = page.project.config.segments
        with warehouse(page.project) as opened:
            kinds = _columns(page.project, opened)
        node = draft.filter(kinds)
        error = None
        if not NAME.fullmatch(draft.name):
            error = "A segment name starts with a letter, then letters, digits, _ or -."
        elif draft.name in segments and draft.name != draft.original:
            error = f"There is already a segment named {draft.name}."
        elif node is None:
            error = "Add at least one complete condition (and fix those marked)."
        if error:
            return _builder_page(page, draft, 400, error=error)
        assert node is not None
        try:
            edit = segment_edit(
                page.project, draft.base, draft.name, draft.description, node,
                original=draft.original,
            )  # fmt: skip
        except FileChanged:
            return _builder_page(page, draft, 409, error=CHANGED_ON_DISK)
        return draft, edit

    def _builder_page(
        page: Page, draft: Draft, status: int = 200, error: str | None = None
    ) -> Response:
        with warehouse(page.project) as opened:
            kinds = _columns(page.project, opened)
            values = _pick_lists(page.project, opened, draft, kinds)
        return page.render(
            "builder.html", status, draft=draft, kinds=kinds, values=values,
            operators=OPERATORS, error=error,
            customer_table=page.project.config.warehouse.customer_table,
        )  # fmt: skip

    def new_sql(page: Page) -> Response:
        return _sql_page(page, "", "", "", "")

    def sql_size(page: Page) -> Response:
        """The size of the SQL as typed, or validate's problems with it at line:column."""
        sql = page.field("sql")
        if not sql.strip():
            return page.render("size.html", empty=True)
        config = page.project.config
        drafted = config.model_copy(
            update={"segments": {**config.segments, _DRAFT: Segment(sql=sql)}}
        )
        with warehouse(page.project) as opened:
            try:
                resolver = SegmentResolver(drafted, opened)
                with console.live.running(page.live_key(_part(page)), opened):
                    insights = segment_insights(resolver, _DRAFT, reach=_reach(page))
            except AudienceError as exc:
                return page.render("size.html", errors=[str(i) for i in exc.issues])
        return page.render("size.html", insights=insights, part=_part(page))

    def sql_review(page: Page) -> Response:
        found = _sql_edit(page)
        if isinstance(found, Response):
            return found
        hidden, edit = found
        return page.render(
            "review_edit.html", heading=f"Save segment {hidden['name']}?", edit=edit,
            hidden=hidden, save="/segments/sql/save", back="/segments/sql/form",
            problems=[str(p) for p in edit.problems],
        )  # fmt: skip

    def sql_save(page: Page) -> Response:
        found = _sql_edit(page)
        if isinstance(found, Response):
            return found
        hidden, edit = found
        try:
            write_edit(page.project.root, edit)
        except FileChanged:
            return _sql_page(page, *_sql_fields(page), error=CHANGED_ON_DISK, status=409)
        except ProjectError as exc:
            return page.render(
                "review_edit.html", 400, heading=f"Save segment {hidden['name']}?", edit=edit,
                hidden=hidden, save="/segments/sql/save", back="/segments/sql/form",
                problems=[str(p) for p in exc.problems],
            )  # fmt: skip
        return RedirectResponse(f"/segments/{hidden['name']}?saved=1", status_code=303)

    def sql_form(page: Page) -> Response:
        return _sql_page(page, *_sql_fields(page))

    def _sql_fields(page: Page) -> tuple[str, str, str, str, str]:
        return (
            page.field("name").strip(), page.field("description").strip(), page.field("sql"),
            page.field("original"), page.field("base"),
        )  # fmt: skip

    def _sql_edit(page: Page) -> tuple[dict[str, str], Any] | Response:
        name, description, sql, original, base = _sql_fields(page)
        segments = page.project.config.segments
        error = None
        if not NAME.fullmatch(name):
            error = "A segment name starts with a letter, then letters, digits, _ or -."
        elif name in segments and name != original:
            error = f"There is already a segment named {name}."
        elif not sql.strip():
            error = "Write the SQL that selects the customer key."
        if error:
            return _sql_page(page, name, description, sql, original, base, error=error, status=400)
        try:
            edit = entry_edit(
                page.project, base, "segments", name,
                {"description": description or None, "filter": None, "sql": _block(sql)},
                original=original,
            )  # fmt: skip
        except FileChanged:
            return _sql_page(page, name, description, sql, original, base,
                             error=CHANGED_ON_DISK, status=409)  # fmt: skip
        hidden = {"name": name, "description": description, "sql": sql,
                  "original": original, "base": base}  # fmt: skip
        return hidden, edit

    def _sql_page(
        page: Page, name: str, description: str, sql: str, original: str, base: str = "",
        *, error: str | None = None, status: int = 200,
    ) -> Response:  # fmt: skip
        return page.render(
            "sql_editor.html", status, name=name, description=description, sql=sql,
            original=original, base=base or _base(page.project), error=error,
            customer_key=page.project.config.warehouse.customer_key,
        )  # fmt: skip

    return [
        console.get("/segments", "viewer", listing),
        console.get("/segments/new-sql", "marketer", new_sql),
        console.post("/segments/sql/size", "marketer", sql_size),
        console.post("/segments/sql/review", "marketer", sql_review),
        console.post("/segments/sql/save", "marketer", sql_save),
        console.post("/segments/sql/form", "marketer", sql_form),
        console.get("/segments/new", "marketer", new),
        console.post("/segments/builder", "marketer", rebuild),
        console.post("/segments/builder/size", "marketer", draft_size),
        console.post("/segments/review", "marketer", review),
        console.post("/segments/save", "marketer", save),
        console.get("/segments/{name}", "viewer", detail),
        console.get("/segments/{name}/size", "viewer", size),
        console.get("/segments/{name}/overlap", "viewer", overlap),
        console.get("/segments/{name}/edit", "marketer", edit),
    ]  # fmt: skip


def _reach(page: Page) -> bool:
    """The live size asks twice: the total (fast), then who is reachable (slower: phones are
    normalised), so the total never waits for the reachability counts."""
    return page.request.query_params.get("reach") == "1"


def _part(page: Page) -> str:
    return "reach" if _reach(page) else "total"


def _block(sql: str) -> Any:
    """SQL over several lines is written as a YAML block (``sql: |``), as people write it."""
    text = sql.replace("\r\n", "\n").strip("\n")
    if "\n" not in text:
        return text.strip()
    return LiteralScalarString(text + "\n")


def _base(project: Project) -> str:
    return file_hash(project.config_file.read_text(encoding="utf-8"))


def _columns(project: Project, opened: Warehouse) -> dict[str, Kind]:
    """The customer table's columns and their kinds, in table order."""
    table = project.config.warehouse.customer_table
    return {c.name: kind_of(c.type) for c in opened.describe(table)}


def _pick_lists(
    project: Project, opened: Warehouse, draft: Draft, kinds: dict[str, Kind]
) -> dict[str, list[tuple[Any, int]]]:
    """The most frequent values (with counts) of each text or number column the draft uses."""
    table = project.config.warehouse.customer_table
    found: dict[str, list[tuple[Any, int]]] = {}
    for group in draft.groups:
        for row in group.rows:
            if row.column in found or kinds.get(row.column) not in ("text", "number", "date"):
                continue
            if is_personal(row.column):  # no pick-list of people's names, emails or phones
                continue
            value = exp.column(row.column, quoted=True)
            query = (
                exp.select(exp.alias_(value, "value"), exp.alias_(exp.Count(this=exp.Star()), "n"))
                .from_(table_expression(table))
                .where(exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null())))
                .group_by(exp.column("value"))
                .order_by(exp.Ordered(this=exp.column("n"), desc=True), exp.column("value"))
                .limit(_PICK)
            )
            rows = opened.query(query.sql(dialect=opened.dialect)).to_pylist()
            found[row.column] = [(r["value"], int(r["n"])) for r in rows]
    return found


def _bars(breakdown: list[tuple[object, int]], *, personal: bool) -> list[dict[str, Any]]:
    """SVG bar geometry for a breakdown; values of a personal column are masked."""
    highest = max([n for _, n in breakdown] or [0])
    return [
        {"label": "(missing)" if v is None else str(mask_value(v) if personal else v), "n": n,
         "width": 0 if not highest else round(300 * n / highest), "y": i * 22}
        for i, (v, n) in enumerate(breakdown)
    ]  # fmt: skip
