"""List imports over HTTP: ``ListImport*``, ``ListImportContact``, the Beta bulk profile-field
update (``Contact/SegmentationField``) and ``DELETE .../SegmentationField/{id}/Values``.

The routes check and parse the request (off the event loop), record the import as ``Queued``
and leave the work to the import queue; status, summary and per-contact results read what the
queue wrote.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import duckdb
import pyarrow as pa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..errors import ListrakHTTPError
from ..parsing import path_int, query_datetime
from ..responses import created, listrak_time, paged, resource
from ..routing import OperationTable, body
from ..state import Client, EmulatorState
from .addresses import now
from .fields import find_field
from .import_files import read_import_request
from .import_jobs import ArrowSource, ImportJob
from .import_queue import SUMMARY_MEMBERS, ImportQueue, create_import
from .lists import find_list
from .paging import encode_cursor, page_after, page_count
from .sql import first
from .writes import write

__all__ = ["install_imports"]

_NOT_FOUND = "listId and importFileId"


def _find_import(state: EmulatorState, list_id: int, import_id: int) -> tuple[Any, ...]:
    row = first(
        state.db.execute(
            "SELECT import_id, file_name, import_date, status, start_date, end_date, counts"
            " FROM email_import WHERE list_id = ? AND import_id = ?",
            [list_id, import_id],
        )
    )
    if row is None:
        raise ListrakHTTPError.not_found(_NOT_FOUND)
    return row


def _ids(request: Request) -> tuple[int, int]:
    return path_int(request, "listId"), path_int(request, "importFileId")


def _beta_source(db: duckdb.DuckDBPyConnection, list_id: int, entries: list[Any]) -> ArrowSource:
    """Rows and values of a ``ContactSegmentationFieldValues`` array, checked as a whole."""
    name = "contactSegmentationFieldValues"
    if not entries:
        raise ListrakHTTPError.invalid_parameter(name, "At least one contact is required.")
    emails: list[str] = []
    value_rows: list[int] = []
    field_ids: list[int] = []
    values: list[str] = []
    for index, entry in enumerate(entries):
        given = [item["segmentationFieldId"] for item in entry["segmentationFieldValues"]]
        if not given:
            raise ListrakHTTPError.invalid_parameter(
                f"{name}[{index}].segmentationFieldValues", "At least one value is required."
            )
        if len(set(given)) != len(given):
            raise ListrakHTTPError.invalid_parameter(
                f"{name}[{index}].segmentationFieldValues", "A field is given twice."
            )
        emails.append(entry["emailAddress"])
        for item in entry["segmentationFieldValues"]:
            value_rows.append(index + 1)
            field_ids.append(item["segmentationFieldId"])
            values.append(item["value"])
    known = {
        row[0]
        for row in db.execute(
            "SELECT field_id FROM email_field WHERE list_id = ?", [list_id]
        ).fetchall()
    }
    unknown = next((f for f in field_ids if f not in known), None)
    if unknown is not None:
        raise ListrakHTTPError.invalid_parameter(name, f"No profile field {unknown} on the list.")
    return ArrowSource(
        rows=pa.table(
            {
                "row_no": pa.array(range(1, len(emails) + 1), pa.int64()),
                "email": pa.array(emails, pa.string()),
            }
        ),
        values=pa.table(
            {
                "row_no": pa.array(value_rows, pa.int64()),
                "field_id": pa.array(field_ids, pa.int32()),
                "value": pa.array(values, pa.string()),
            }
        ),
    )


def install_imports(state: EmulatorState, table: OperationTable, queue: ImportQueue) -> None:
    imports = "/email/v1/List/{listId}/ListImport"
    one = imports + "/{importFileId}"

    @table.operation("POST", imports, "ListImport_PostImportFileResource", "email")
    async def post_import(request: Request, client: Client) -> Response:
        list_id = path_int(request, "listId")
        find_list(state, list_id)
        doc = body(request)

        def parse() -> Any:
            with state.cursor() as cur:
                return read_import_request(cur, list_id, doc)

        req = await asyncio.to_thread(parse)
        import_id = await write(
            state,
            lambda db: create_import(
                db,
                state,
                list_id,
                req.file_name,
                req.import_type,
                req.segmentation_import_type,
                req.options,
            ),
        )
        queue.submit(
            ImportJob(
                import_id,
                list_id,
                req.import_type,
                req.segmentation_import_type,
                req.include_unsubscribed,
                req.source,
            )
        )
        return created(import_id)

    @table.operation("GET", imports, "ListImport_GetListImportCollection", "email")
    async def get_imports(request: Request, client: Client) -> Response:
        list_id = path_int(request, "listId")
        find_list(state, list_id)
        count, after = page_count(request), page_after(request)
        conditions, params = "", []
        start, end = query_datetime(request, "startDate"), query_datetime(request, "endDate")
        if start is not None:
            conditions += " AND import_date >= ?"
            params.append(start.replace(tzinfo=None))
        if end is not None:
            inclusive_day = len(request.query_params["endDate"]) <= 10
            conditions += " AND import_date < ?" if inclusive_day else " AND import_date <= ?"
            params.append(end.replace(tzinfo=None) + timedelta(days=1 if inclusive_day else 0))
        rows = state.db.execute(
            "SELECT import_id, file_name, import_date FROM email_import"
            f" WHERE list_id = ? AND import_id > ?{conditions} ORDER BY import_id LIMIT ?",
            [list_id, after, *params, count + 1],
        ).fetchall()
        more = len(rows) > count
        rows = rows[:count]
        data = [
            {"importFileId": i, "importFileName": name, "importDate": listrak_time(date)}
            for i, name, date in rows
        ]
        # Collection[ListImport] has no nextPageCursor member, yet the route takes a cursor:
        # the cursor is given only when another page exists, so a single page is exactly the
        # spec's shape.
        return paged(data, encode_cursor(rows[-1][0]) if more else None)

    @table.operation("GET", one, "ListImport_GetListImportResource", "email")
    async def get_import(request: Request, client: Client) -> Response:
        list_id, import_id = _ids(request)
        find_list(state, list_id)
        row = _find_import(state, list_id, import_id)
        return resource(
            {"importFileId": row[0], "importFileName": row[1], "importDate": listrak_time(row[2])}
        )

    @table.operation(
        "GET", one + "/Status", "ListImportStatus_GetListImportStatusResource", "email"
    )
    async def get_status(request: Request, client: Client) -> Response:
        list_id, import_id = _ids(request)
        find_list(state, list_id)
        row = _find_import(state, list_id, import_id)
        return resource(
            {"startDate": listrak_time(row[4]), "endDate": listrak_time(row[5]), "status": row[3]}
        )

    @table.operation(
        "GET", one + "/Summary", "ListImportSummary_GetListImportSummaryResource", "email"
    )
    async def get_summary(request: Request, client: Client) -> Response:
        list_id, import_id = _ids(request)
        find_list(state, list_id)
        row = _find_import(state, list_id, import_id)
        counts = json.loads(row[6]) if row[6] else {}
        return resource({name: counts.get(name, 0) for name in SUMMARY_MEMBERS})

    @table.operation(
        "GET", one + "/Contact", "ListImportContact_GetListImportContactCollection", "email"
    )
    async def get_import_contacts(request: Request, client: Client) -> Response:
        list_id, import_id = _ids(request)
        find_list(state, list_id)
        _find_import(state, list_id, import_id)
        count, after = page_count(request), page_after(request)
        rows = state.db.execute(
            "SELECT row_no, email, result FROM email_import_contact"
            " WHERE import_id = ? AND row_no > ? ORDER BY row_no LIMIT ?",
            [import_id, after, count + 1],
        ).fetchall()
        more = len(rows) > count
        rows = rows[:count]
        data = [{"emailAddress": email, "importResult": result} for _, email, result in rows]
        return paged(data, encode_cursor(rows[-1][0]) if more else None)

    @table.operation(
        "POST",
        "/email/v1/List/{listId}/Contact/SegmentationField",
        "ContactSegmentationField_PostContactSegmentationFieldValuesResource",
        "email",
        beta=True,
    )
    async def post_field_values(request: Request, client: Client) -> Response:
        list_id = path_int(request, "listId")
        find_list(state, list_id)
        source = _beta_source(state.db, list_id, body(request))
        stamp = now(state).strftime("%Y%m%d%H%M%S")
        import_id = await write(
            state,
            lambda db: create_import(
                db,
                state,
                list_id,
                f"ContactSegmentationField-{stamp}.csv",
                "UpdateSubscribers",
                "Update",
                {"source": "Contact/SegmentationField"},
            ),
        )
        queue.submit(ImportJob(import_id, list_id, "UpdateSubscribers", source=source))
        return created(import_id)

    @table.operation(
        "DELETE",
        "/email/v1/List/{listId}/SegmentationFieldGroup/{segmentationFieldGroupId}"
        "/SegmentationField/{segmentationFieldId}/Values",
        "SegmentationField_DeleteSegmentationFieldValuesResource",
        "email",
    )
    async def clear_values(request: Request, client: Client) -> Response:
        list_id = path_int(request, "listId")
        group_id = path_int(request, "segmentationFieldGroupId")
        field_id = path_int(request, "segmentationFieldId")
        find_list(state, list_id)
        name = find_field(state.db, list_id, group_id, field_id)[3]
        import_id = await write(
            state,
            lambda db: create_import(
                db,
                state,
                list_id,
                f"Clear values of {name}",
                "ClearSegmentationFieldValues",
                "Overwrite",
                {"segmentationFieldId": field_id},
            ),
        )
        queue.submit(
            ImportJob(import_id, list_id, "ClearSegmentationFieldValues", field_ids=(field_id,))
        )
        return JSONResponse({"status": 202, "resourceId": str(import_id)}, status_code=202)
