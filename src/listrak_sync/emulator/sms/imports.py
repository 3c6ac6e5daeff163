"""The contact update import: ``POST .../ContactImport`` (base64 CSV) and its status.

An update import only changes profiles of numbers that already exist on the sender code: it
never creates contacts, subscribes, unsubscribes or touches opt-out state. It is processed
off the request, ``Queued`` → ``Processing`` → ``Completed`` (or ``Failed``), and in bulk: pyarrow
reads the CSV, DuckDB matches phones to contacts and writes each mapped field with one
set-based statement, so a million-row file costs a handful of SQL statements, not a Python loop.

Row rules (the spec is silent; these are the strict choices): numbers are read like every
other SMS route (see ``phones.py``); numbers not on the sender code are counted ``notFound``;
banned numbers are skipped; when a number appears twice the last row wins; an empty cell takes
the mapping's ``defaultValue`` or leaves the field unchanged; a value the field's type or length
refuses is skipped and counted, the row's other values still apply.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import logging
import threading
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from starlette.requests import Request
from starlette.responses import Response

from ..errors import ListrakHTTPError
from ..parsing import path_int
from ..responses import created, listrak_time, resource
from ..routing import OperationTable, body
from ..state import Client, EmulatorState
from .fields import Field, field_map, value_sql
from .phones import candidates_sql, country_calling_code
from .sender_codes import SenderCode, find_sender_code, now

__all__ = ["imports_paused", "install_imports", "resume_imports", "set_imports_paused"]

log = logging.getLogger(__name__)

_QUALIFIERS = {"'", '"', ""}
_PAUSED = "importsPaused"


def imports_paused(state: EmulatorState) -> bool:
    row = state.db.execute("SELECT value FROM sms_settings WHERE name = ?", [_PAUSED]).fetchone()
    return row is not None and row[0] == "true"


def set_imports_paused(state: EmulatorState, paused: bool) -> None:
    """Hold new imports in ``Queued`` (for tests of status polling), or release them."""
    state.db.execute(
        "INSERT OR REPLACE INTO sms_settings VALUES (?, ?)", [_PAUSED, str(paused).lower()]
    )
    if not paused:
        resume_imports(state)


def resume_imports(state: EmulatorState) -> None:
    """Start every import that is waiting (held, or interrupted by a restart)."""
    if imports_paused(state):
        return
    waiting = state.db.execute(
        "SELECT import_id FROM sms_import WHERE status IN ('Queued', 'Processing') "
        "AND file IS NOT NULL ORDER BY import_id"
    ).fetchall()
    for (import_id,) in waiting:
        _start(state, import_id)


def _start(state: EmulatorState, import_id: int) -> None:
    threading.Thread(
        target=_process_safely, args=(state, import_id), name=f"sms-import-{import_id}", daemon=True
    ).start()


def _column_count(data: bytes, qualifier: str) -> int:
    # Lines may end in \r\n, \n or a bare \r (old Mac files), as Arrow's reader accepts.
    lines = data.splitlines()
    first = lines[0].decode("utf-8", errors="replace") if lines else ""
    reader = csv.reader(
        [first],
        quotechar=qualifier or '"',
        quoting=csv.QUOTE_MINIMAL if qualifier else csv.QUOTE_NONE,
    )
    try:
        return len(next(reader, []))
    except csv.Error as exc:
        raise ListrakHTTPError.invalid_parameter(
            "fileStream", f"The first line is not delimited text ({exc})."
        ) from None


def _check_request(state: EmulatorState, doc: dict[str, Any]) -> tuple[bytes, list[dict[str, Any]]]:
    # Enum-like strings match case-insensitively, as the API's JSON binding reads them.
    if doc["importType"].lower() != "updatesubscribers":
        raise ListrakHTTPError.invalid_parameter(
            "importType", "Allowed values are UpdateSubscribers."
        )
    if doc["textQualifier"] not in _QUALIFIERS:
        raise ListrakHTTPError.invalid_parameter(
            "textQualifier", "Allowed values are ', \" and blank."
        )
    if not doc["fileName"].strip():
        raise ListrakHTTPError.invalid_parameter("fileName")
    try:
        data = base64.b64decode(doc["fileStream"], validate=True)
    except (binascii.Error, ValueError):
        raise ListrakHTTPError.invalid_parameter("fileStream", "It is not Base64.") from None
    if not data.strip():
        raise ListrakHTTPError.invalid_parameter("fileStream", "The file is empty.")
    columns = _column_count(data, doc["textQualifier"])
    fields = field_map(state)
    mappings: list[dict[str, Any]] = doc["fileMappings"]
    phone_mappings = 0
    seen: set[int] = set()
    for index, mapping in enumerate(mappings):
        where = f"fileMappings[{index}]"
        if not 0 <= mapping["fileColumn"] < columns:
            raise ListrakHTTPError.invalid_parameter(
                f"{where}.fileColumn", f"The file has {columns} column(s), numbered from 0."
            )
        kind = mapping["fileColumnType"].lower()
        mapping["fileColumnType"] = {"phone": "Phone"}.get(kind, "SegmentationField")
        if kind == "phone":
            phone_mappings += 1
            if mapping["segmentationFieldId"] != 0:
                raise ListrakHTTPError.invalid_parameter(
                    f"{where}.segmentationFieldId", "A Phone mapping has segmentationFieldId 0."
                )
        elif kind == "segmentationfield":
            field = fields.get(mapping["segmentationFieldId"])
            if field is None:
                raise ListrakHTTPError(
                    400,
                    "ERROR_INVALID_SEGMENTATION_FIELD_ID",
                    f"{where}: no profile field {mapping['segmentationFieldId']} on this "
                    "sender code.",
                )
            field.require_usable()
            if field.field_id in seen:
                raise ListrakHTTPError.invalid_parameter(
                    f"{where}.segmentationFieldId", "Each profile field is mapped once."
                )
            seen.add(field.field_id)
        else:
            raise ListrakHTTPError.invalid_parameter(
                f"{where}.fileColumnType", "Allowed values are Phone and SegmentationField."
            )
    if phone_mappings != 1:
        raise ListrakHTTPError.invalid_parameter(
            "fileMappings", "Map exactly one column of fileColumnType Phone."
        )
    return data, mappings


def _read_rows(data: bytes, request: dict[str, Any]) -> tuple[pa.Table, int]:
    """The file as a table of strings (f0, f1, …) and the number of malformed rows skipped."""
    malformed = 0

    def skip(row: Any) -> str:
        nonlocal malformed
        malformed += 1
        return "skip"

    qualifier = request["textQualifier"]
    width = 1 + max(mapping["fileColumn"] for mapping in request["fileMappings"])
    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(
            autogenerate_column_names=True,
            skip_rows=1 if request["hasColumnNames"] else 0,
            block_size=16 << 20,
        ),
        parse_options=pacsv.ParseOptions(
            quote_char=qualifier or False,
            newlines_in_values=bool(qualifier),
            invalid_row_handler=skip,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={f"f{index}": pa.string() for index in range(max(width, 64))},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    return table, malformed


def _process_safely(state: EmulatorState, import_id: int) -> None:
    try:
        with state.lock, state.cursor() as cur:
            cur.execute(
                "UPDATE sms_import SET status = 'Processing', start_date = ? WHERE import_id = ?",
                [now(state), import_id],
            )
            try:
                summary = _process(state, cur, import_id)
            except Exception as exc:  # a bad file fails its import, never the emulator
                log.warning("SMS contact import %s failed: %s", import_id, exc)
                cur.execute(
                    "UPDATE sms_import SET status = 'Failed', end_date = ?, file = NULL, "
                    "summary = ? WHERE import_id = ?",
                    [now(state), json.dumps({"error": str(exc)}), import_id],
                )
                return
            cur.execute(
                "UPDATE sms_import SET status = 'Completed', end_date = ?, file = NULL, "
                "summary = ? WHERE import_id = ?",
                [now(state), json.dumps(summary), import_id],
            )
    except Exception:  # e.g. the emulator was reset or closed while the import ran
        log.exception("SMS contact import %s was abandoned", import_id)


def _process(state: EmulatorState, cur: Any, import_id: int) -> dict[str, int]:
    """Read the file, then apply it in one transaction; returns the import's counts."""
    row = cur.execute(
        "SELECT i.request, i.file, s.country FROM sms_import i "
        "JOIN sms_sender_code s USING (sender_code_id) WHERE i.import_id = ?",
        [import_id],
    ).fetchall()[0]  # fetchall: DuckDB refuses to register a table over an unfinished result
    request, data, country = json.loads(row[0]), bytes(row[1]), row[2]
    sender_code_id = request["senderCodeId"]
    table, malformed = _read_rows(data, request)
    phone_column = next(m for m in request["fileMappings"] if m["fileColumnType"] == "Phone")
    fields = field_map(state)
    mapped = [
        (fields[m["segmentationFieldId"]], m)
        for m in request["fileMappings"]
        if m["fileColumnType"] == "SegmentationField"
    ]
    columns = {"row_no": pa.array(range(table.num_rows), pa.int64())}
    columns["raw_phone"] = table.column(f"f{phone_column['fileColumn']}")
    for field, mapping in mapped:
        columns[f"v{field.field_id}"] = table.column(f"f{mapping['fileColumn']}")
    cur.register("sms_import_rows", pa.table(columns))
    international, national, trunk = candidates_sql("raw_phone", country_calling_code(country))
    cur.execute("BEGIN TRANSACTION")
    try:
        summary = _apply(cur, sender_code_id, mapped, international, national, trunk)
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    finally:
        cur.unregister("sms_import_rows")
    return {**summary, "rows": summary["rows"] + malformed, "malformedRows": malformed}


def _apply(
    cur: Any,
    sender_code_id: int,
    mapped: list[tuple[Field, dict[str, Any]]],
    international: str,
    national: str,
    trunk: str,
) -> dict[str, int]:
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE sms_import_matched AS
        WITH keyed AS (
            SELECT *, {international} AS k_int, {national} AS k_nat, {trunk} AS k_trunk
            FROM sms_import_rows
        )
        SELECT keyed.*,
               coalesce(cn.phone, ct.phone, ci.phone) AS phone,
               coalesce(cn.status, ct.status, ci.status) AS contact_status,
               length(k_int) BETWEEN 7 AND 15 AS plausible
        FROM keyed
        LEFT JOIN sms_contact cn ON cn.sender_code_id = $sc AND cn.phone = keyed.k_nat
        LEFT JOIN sms_contact ct ON ct.sender_code_id = $sc AND ct.phone = keyed.k_trunk
        LEFT JOIN sms_contact ci ON ci.sender_code_id = $sc AND ci.phone = keyed.k_int
        """,
        {"sc": sender_code_id},
    )
    counts = cur.execute(
        """
        SELECT count(*),
               count(*) FILTER (WHERE NOT plausible),
               count(*) FILTER (WHERE plausible AND phone IS NULL),
               count(*) FILTER (WHERE contact_status = 'Banned'),
               count(*) FILTER (WHERE phone IS NOT NULL AND contact_status <> 'Banned'),
               count(DISTINCT phone) FILTER (WHERE contact_status <> 'Banned')
        FROM sms_import_matched
        """
    ).fetchall()[0]
    total, invalid_phone, not_found, banned, matched, distinct = counts
    # The window that keeps each number's last row is only paid for when numbers repeat.
    last_row_wins = (
        "QUALIFY row_number() OVER (PARTITION BY phone ORDER BY row_no DESC) = 1"
        if matched != distinct
        else ""
    )
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE sms_import_final AS
        SELECT phone, * EXCLUDE (phone) FROM sms_import_matched
        WHERE phone IS NOT NULL AND contact_status <> 'Banned'
        {last_row_wins}
        """
    )
    if any(field.system_column for field, _ in mapped):
        cur.execute("INSERT OR IGNORE INTO sms_person (phone) SELECT phone FROM sms_import_final")
    invalid_values = 0
    for field, mapping in mapped:
        invalid_values += _write_field(cur, field, mapping.get("defaultValue"))
    return {
        "rows": total,
        "updated": distinct,
        "duplicates": matched - distinct,
        "notFound": not_found,
        "invalidPhone": invalid_phone,
        "banned": banned,
        "invalidValues": invalid_values,
    }


def _write_field(cur: Any, field: Field, default: str | None) -> int:
    """Apply one mapped column to every matched contact; returns how many values it refused."""
    column = f"v{field.field_id}"
    value = f"CASE WHEN {column} = '' THEN $default ELSE {column} END"
    valid, normalised = value_sql(field.data_type, "val")
    fits = "TRUE" if field.max_length is None else f"length(val) <= {int(field.max_length)}"
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE sms_import_values AS
        SELECT phone, val, ({valid}) AND ({fits}) AS ok, {normalised} AS norm
        FROM (SELECT phone, {value} AS val FROM sms_import_final)
        WHERE val IS NOT NULL
        """,
        {"default": default or None},
    )
    if field.system_column is None:
        cur.execute(
            "INSERT OR REPLACE INTO sms_field_value "
            f"SELECT phone, {field.field_id}, norm FROM sms_import_values WHERE ok"
        )
    else:
        target = "CAST(v.norm AS TIMESTAMP)" if field.system_column == "birthday" else "v.norm"
        cur.execute(
            f"UPDATE sms_person SET {field.system_column} = {target} "
            "FROM sms_import_values v WHERE v.ok AND sms_person.phone = v.phone"
        )
    refused = cur.execute("SELECT count(*) FROM sms_import_values WHERE NOT ok").fetchall()[0]
    return int(refused[0])


def install_imports(state: EmulatorState, table: OperationTable) -> None:
    @table.operation(
        "POST",
        "/sms/v1/ShortCode/{senderCodeId}/ContactImport",
        "Contact_PostImportFileResource",
        "sms",
    )
    async def start_import(request: Request, client: Client) -> Response:
        sender = find_sender_code(state, request)
        sender.require_enabled()
        doc = body(request)
        data, mappings = _check_request(state, doc)
        with state.lock:
            import_id = _queue(state, sender, doc, data, mappings)
            if not imports_paused(state):
                _start(state, import_id)
        return created(import_id)

    @table.operation(
        "GET",
        "/sms/v1/ShortCode/{senderCodeId}/ContactImport/{importFileId}",
        "Contact_GetImportFileResource",
        "sms",
    )
    async def get_import(request: Request, client: Client) -> Response:
        sender = find_sender_code(state, request)
        import_id = path_int(request, "importFileId")
        with state.cursor() as cur:
            row = cur.execute(
                "SELECT file_name, start_date, end_date, status FROM sms_import "
                "WHERE import_id = ? AND sender_code_id = ?",
                [import_id, sender.sender_code_id],
            ).fetchone()
        if row is None:
            raise ListrakHTTPError.not_found("senderCodeId and importFileId")
        file_name, start, end, status = row
        return resource(
            {
                "importFileId": import_id,
                "smsSenderCodeId": sender.sender_code_id,
                "fileName": file_name,
                "startDate": listrak_time(start),
                "endDate": listrak_time(end),
                "status": status,
            }
        )


def _queue(
    state: EmulatorState,
    sender: SenderCode,
    doc: dict[str, Any],
    data: bytes,
    mappings: list[dict[str, Any]],
) -> int:
    request = {
        "senderCodeId": sender.sender_code_id,
        "hasColumnNames": doc["hasColumnNames"],
        "textQualifier": doc["textQualifier"],
        "fileMappings": mappings,
    }
    with state.cursor() as cur:
        row = cur.execute(
            "INSERT INTO sms_import (sender_code_id, file_name, status, request, file) "
            "VALUES (?, ?, 'Queued', ?, ?) RETURNING import_id",
            [sender.sender_code_id, doc["fileName"], json.dumps(request), data],
        ).fetchone()
    assert row is not None
    return int(row[0])
