"""Reading an ``ImportFile`` request: the base64 CSV, its options and its column mappings.

Everything that can be judged from the request is judged before the import is accepted, with
``ERROR_INVALID_PARAMETER`` naming the member: bad base64, a file that is not UTF-8 text, a
delimiter or text qualifier that is not one character, mappings that point past the file's
columns (the usual sign of a wrong delimiter), unknown profile fields. The CSV is parsed with
pyarrow's reader; a row whose column count differs from the first row's is skipped and
reported in the import's per-contact results, never dropped silently.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
from dataclasses import dataclass
from typing import Any, cast

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import ListrakHTTPError
from .import_jobs import CsvSource, FieldColumn, ImportType
from .sql import first

__all__ = [
    "IMPORT_TYPES",
    "MAX_FILE_BYTES",
    "SEGMENTATION_IMPORT_TYPES",
    "ImportRequest",
    "read_import_request",
]

IMPORT_TYPES = (
    "AddSubscribers",
    "AddSubscribersAndSegmentationData",
    "RemoveSubscribers",
    "UpdateSubscribers",
)
SEGMENTATION_IMPORT_TYPES = ("Update", "Append", "Overwrite")
COLUMN_TYPES = ("Email", "SegmentationField", "Event", "ExternalContactID")
MAX_FILE_BYTES = 195_000_000  # the spec's effective limit once base64 and JSON are counted


@dataclass(frozen=True)
class ImportRequest:
    file_name: str
    import_type: ImportType
    segmentation_import_type: str
    include_unsubscribed: bool
    options: dict[str, Any]
    source: CsvSource


def _invalid(member: str, detail: str) -> ListrakHTTPError:
    return ListrakHTTPError.invalid_parameter(member, detail)


def _check_options(doc: dict[str, Any]) -> tuple[str, str | None]:
    if doc["importType"] not in IMPORT_TYPES:
        raise _invalid("importType", "Allowed values are " + ", ".join(IMPORT_TYPES) + ".")
    if doc["segmentationImportType"] not in SEGMENTATION_IMPORT_TYPES:
        raise _invalid(
            "segmentationImportType", "Allowed values are Update, Append, and Overwrite."
        )
    if not doc["fileName"].strip():
        raise _invalid("fileName", "A file name is required.")
    delimiter = doc["fileDelimiter"]
    if len(delimiter) != 1 or delimiter in "\r\n":
        raise _invalid("fileDelimiter", "The delimiter is one character, not a line break.")
    qualifier = doc.get("textQualifier", '"')
    if len(qualifier) > 1 or qualifier == delimiter or qualifier in ("\r", "\n"):
        raise _invalid(
            "textQualifier",
            "The text qualifier is one character (or empty for none), "
            "different from the delimiter.",
        )
    return delimiter, qualifier or None


def _decode(doc: dict[str, Any]) -> bytes:
    try:
        raw = base64.b64decode(doc["fileStream"], validate=True)
    except (binascii.Error, ValueError):
        raise _invalid("fileStream", "The file is not valid base64.") from None
    if len(raw) > MAX_FILE_BYTES:
        raise _invalid("fileStream", f"The file is larger than {MAX_FILE_BYTES:,} bytes.")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _invalid(
            "fileStream", f"The file is not UTF-8 text (byte {exc.start} cannot be decoded)."
        ) from None
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    if not raw.strip():
        raise _invalid("fileStream", "The file is empty.")
    return raw


def _reader(source: Any, delimiter: str, qualifier: str | None) -> Any:
    if qualifier is None:
        return csv.reader(source, delimiter=delimiter, quoting=csv.QUOTE_NONE)
    return csv.reader(source, delimiter=delimiter, quotechar=qualifier)


def _mappings(
    db: duckdb.DuckDBPyConnection, list_id: int, doc: dict[str, Any]
) -> tuple[int, int | None, tuple[FieldColumn, ...]]:
    mappings: list[dict[str, Any]] = doc["fileMappings"]
    email: list[int] = []
    external: list[int] = []
    fields: list[FieldColumn] = []
    columns: set[int] = set()
    for index, mapping in enumerate(mappings):
        member = f"fileMappings[{index}]"
        kind, column = mapping["fileColumnType"], mapping["fileColumn"]
        if kind not in COLUMN_TYPES:
            raise _invalid(
                f"{member}.fileColumnType",
                "Allowed values are Email, SegmentationField, Event, and ExternalContactID.",
            )
        if column < 0 or column in columns:
            raise _invalid(f"{member}.fileColumn", "Columns are numbered from 0, each mapped once.")
        columns.add(column)
        if kind == "Email":
            email.append(column)
        elif kind == "ExternalContactID":
            external.append(column)
        elif kind == "Event":
            raise _invalid(
                f"{member}.fileColumnType", "Event columns are not supported by the emulator."
            )
        else:
            field_id = mapping.get("segmentationFieldId")
            known = field_id is not None and first(
                db.execute(
                    "SELECT 1 FROM email_field WHERE list_id = ? AND field_id = ?",
                    [list_id, field_id],
                )
            )
            if not known:
                raise _invalid(
                    f"{member}.segmentationFieldId", "No such profile field on the list."
                )
            if any(spec.field_id == field_id for spec in fields):
                raise _invalid(f"{member}.segmentationFieldId", "The field is mapped twice.")
            fields.append(FieldColumn(column, int(str(field_id)), mapping.get("defaultValue")))
    if len(email) != 1:
        raise _invalid("fileMappings", "Exactly one column must be mapped as Email.")
    if len(external) > 1:
        raise _invalid("fileMappings", "At most one column may be mapped as ExternalContactID.")
    kind = doc["importType"]
    if fields and kind in ("AddSubscribers", "RemoveSubscribers"):
        raise _invalid(
            "fileMappings",
            f"{kind} imports carry no profile data; use AddSubscribersAndSegmentationData or "
            "UpdateSubscribers to import profile fields.",
        )
    if (
        not fields
        and not external
        and kind in ("AddSubscribersAndSegmentationData", "UpdateSubscribers")
    ):
        raise _invalid("fileMappings", f"{kind} needs at least one SegmentationField mapping.")
    return email[0], external[0] if external else None, tuple(fields)


def _parse(
    raw: bytes,
    delimiter: str,
    qualifier: str | None,
    has_header: bool,
    max_column: int,
    email_column: int,
) -> tuple[pa.Table, pa.Table]:
    # The first record decides the column count, as it does for pyarrow's reader.
    head = raw[: 1 << 20].decode("utf-8", errors="ignore")
    first: list[str] = next(_reader(io.StringIO(head), delimiter, qualifier), [])
    width = len(first)
    if max_column >= width:
        raise _invalid(
            "fileMappings",
            f"Column {max_column} is mapped, but the file's first line has {width} column(s) "
            f"when split on {delimiter!r}. Check fileDelimiter and the column numbers.",
        )
    names = [f"c{i}" for i in range(width)]
    malformed: list[str] = []

    def skip(row: Any) -> str:
        malformed.append(row.text)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(raw),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1 if has_header else 0),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char=qualifier or False,
                newlines_in_values=qualifier is not None,
                ignore_empty_lines=True,
                invalid_row_handler=skip,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid as exc:
        raise _invalid("fileStream", f"The file cannot be read as CSV: {exc}") from None
    rows = table.num_rows
    table = table.append_column("row_no", pa.array(range(1, rows + 1), pa.int64()))
    bad_emails = []
    for line in malformed:
        # Report a malformed row under its address when its Email cell exists.
        cells: list[str] = next(_reader([line], delimiter, qualifier), [])
        bad_emails.append(cells[email_column] if email_column < len(cells) else line)
    bad = pa.table(
        {
            "row_no": pa.array(range(rows + 1, rows + 1 + len(malformed)), pa.int64()),
            "email": pa.array(bad_emails, pa.string()),
        }
    )
    return table, bad


def read_import_request(
    db: duckdb.DuckDBPyConnection, list_id: int, doc: dict[str, Any]
) -> ImportRequest:
    """Check and parse an ImportFile body (CPU-bound: call it off the event loop)."""
    delimiter, qualifier = _check_options(doc)
    email_column, external_column, fields = _mappings(db, list_id, doc)
    raw = _decode(doc)
    max_column = max([email_column, external_column or 0, *(f.column for f in fields)])
    table, bad = _parse(
        raw, delimiter, qualifier, bool(doc.get("hasColumnNames")), max_column, email_column
    )
    options: dict[str, Any] = {
        key: doc[key]
        for key in (
            "fileDelimiter",
            "textQualifier",
            "hasColumnNames",
            "suppressEmailNotifications",
            "triggerJourney",
            "includeUnsubscribed",
            "fileMappings",
        )
        if key in doc
    }
    return ImportRequest(
        file_name=doc["fileName"],
        import_type=cast(ImportType, doc["importType"]),
        segmentation_import_type=doc["segmentationImportType"],
        include_unsubscribed=bool(doc.get("includeUnsubscribed")),
        options=options,
        source=CsvSource(table, email_column, external_column, fields, bad),
    )
