"""One export run: read each data set from the warehouse, validate it, and deliver it.

Data sets are processed in a fixed order (customers, products, orders, order items) so the
cross-file checks of §4.1 rule 7 can look back: an item's order should be in this run's orders
file, its SKU in the products file, an order's email in the customers file. Those are warnings;
Listrak accepts the rows (it creates placeholder products, for one).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import BinaryIO, Literal
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from ..config.datasets import DATASET_NAMES, DATASETS, Dataset, DatasetName
from ..config.files import (
    DatasetSource,
    ListrakDataDestination,
    ListrakFilesDestination,
    SftpTarget,
)
from ..errors import ExitCode, ListrakSyncError, RunsFailed
from ..listrak import DataApi
from ..warehouse.base import Warehouse, WarehouseError
from .api import OrderJoin, api_batch, to_records
from .csvfile import CsvEncoder
from .issues import IssueLog
from .local import write_file
from .mapping import MappingError, rename_batches, resolve_mapping, source_sql
from .rules import BatchValidator, Target
from .sftp import SftpError, upload_files

__all__ = ["DatasetReport", "ExportError", "ExportReport", "Exporter"]

# Without these source columns a data set cannot be produced at all.
_NEEDED: dict[DatasetName, tuple[tuple[str, ...], ...]] = {
    "customers": (("email",),),
    "products": (("sku",),),
    "orders": (("ordernumber", "alternateordernumber"),),
    "order_items": (("ordernumber", "alternateordernumber"), ("sku",)),
}


class ExportError(ListrakSyncError):
    """A data set could not be produced (missing table, bad query, unusable mapping)."""


@dataclass
class DatasetReport:
    dataset: DatasetName
    required: bool
    issues: IssueLog
    rows_read: int = 0
    rows_written: int = 0  # written to the file, or sent to the API
    rows_rejected: int = 0
    file_name: str | None = None
    location: str | None = None
    size: int = 0
    resource_ids: list[str] = field(default_factory=list)
    requests: int = 0  # Data API calls made; Listrak answers them with a null resourceId
    mapping: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def warnings(self) -> int:
        return self.issues.count("warning")


@dataclass
class ExportReport:
    target: Literal["dir", "sftp", "api"]
    datasets: list[DatasetReport]
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(d.error is not None and d.required for d in self.datasets)

    @property
    def exit_code(self) -> int:
        """The command line's exit code: 1 when a required data set failed, else 0."""
        return ExitCode.ERROR if self.failed else ExitCode.OK

    def raise_for_status(self) -> ExportReport:
        """Raise ``RunsFailed`` naming each failed required data set; else return the report."""
        if self.failed:
            failed = [d for d in self.datasets if d.error is not None and d.required]
            raise RunsFailed(
                f"export to {self.target}: " + ", ".join(f"{d.dataset} failed" for d in failed),
                [f"{d.dataset}: {d.error}" for d in failed],
            )
        return self


class Exporter:
    """Runs exports of the configured data sets from one warehouse."""

    def __init__(
        self,
        warehouse: Warehouse,
        destination: ListrakFilesDestination | ListrakDataDestination,
        *,
        now: datetime | None = None,
        errors_file: BinaryIO | None = None,
        batch_size: int = 65_536,
        sample_size: int = 20,
    ) -> None:
        self.warehouse = warehouse
        self.destination = destination
        self.now = (now or datetime.now(UTC)).astimezone(UTC)
        self.today = self.now.astimezone(ZoneInfo(destination.timezone)).date()
        self.errors_file = errors_file
        self.batch_size = batch_size
        self.sample_size = sample_size
        self._keys: dict[DatasetName, pa.Array] = {}

    # -- reading --------------------------------------------------------------------------

    def _selected(self, names: Sequence[str]) -> list[DatasetName]:
        configured = self.destination.datasets
        unknown = [n for n in names if n not in DATASET_NAMES]
        if unknown:
            raise ExportError(
                f"unknown data set {', '.join(unknown)}; choose from {', '.join(DATASET_NAMES)}"
            )
        chosen = [n for n in DATASET_NAMES if n in configured and (not names or n in names)]
        missing = [n for n in names if n not in configured]
        if missing:
            raise ExportError(
                f"data set {', '.join(missing)} is not configured for this destination"
            )
        return chosen

    def _read(self, dataset: Dataset, report: DatasetReport) -> Iterator[pa.RecordBatch]:
        source: DatasetSource = self.destination.datasets[dataset.name]
        sql = source_sql(dataset, source)
        try:
            stream = iter(self.warehouse.stream(sql, batch_size=self.batch_size))
            first = next(stream, None)
            if first is None:
                columns = self.warehouse.query(f"SELECT * FROM ({sql}) AS src LIMIT 0").schema.names
            else:
                columns = first.schema.names
        except WarehouseError as exc:
            raise ExportError(f"{dataset.name}: the warehouse refused {sql!r}: {exc}") from exc
        mapping = resolve_mapping(dataset, columns, source.columns)
        for group in _NEEDED[dataset.name]:
            if not any(name in mapping for name in group):
                raise MappingError(
                    f"{dataset.name}: no source column for {' or '.join(group)} "
                    f"(source columns: {', '.join(columns)}); map one under columns:"
                )
        report.mapping = mapping
        batches: Iterable[pa.RecordBatch] = chain([first], stream) if first is not None else []
        yield from rename_batches(self._guard(batches, dataset), mapping)

    @staticmethod
    def _guard(batches: Iterable[pa.RecordBatch], dataset: Dataset) -> Iterator[pa.RecordBatch]:
        try:
            yield from batches
        except WarehouseError as exc:
            raise ExportError(f"{dataset.name}: reading failed mid-way: {exc}") from exc

    def _validator(self, dataset: Dataset, report: DatasetReport, target: Target) -> BatchValidator:
        return BatchValidator(
            dataset, self.destination, target, report.issues, now=self.now, today=self.today
        )

    def _report(self, name: DatasetName) -> DatasetReport:
        issues = IssueLog(name, sample_size=self.sample_size, sink=self.errors_file)
        return DatasetReport(name, self.destination.datasets[name].required, issues)

    # -- cross-file checks ----------------------------------------------------------------

    def _remember(self, name: DatasetName, validator: BatchValidator) -> None:
        self._keys[name] = pa.array(list(validator.seen_keys), pa.string())

    def _check_references(
        self, name: DatasetName, report: DatasetReport, batch: pa.RecordBatch, rows: pa.Array
    ) -> None:
        def warn(values: pa.Array, against: DatasetName, column: str, reason: str) -> None:
            if against not in self._keys:
                return
            missing = pc.and_(
                pc.is_valid(values), pc.invert(pc.is_in(values, value_set=self._keys[against]))
            )
            missing = pc.fill_null(missing, False)
            if pc.any(missing).as_py():
                report.issues.add(rows.filter(missing), column, reason, "warning")

        if name == "orders":
            email = pc.utf8_lower(batch.column("email"))
            warn(email, "customers", "email", "no customer with this email in this run")
        elif name == "order_items":
            number = batch.column("ordernumber")
            if "alternateordernumber" in batch.schema.names:
                number = pc.coalesce(number, batch.column("alternateordernumber"))
            warn(number, "orders", "ordernumber", "order not in this run's orders")
            warn(batch.column("sku"), "products", "sku", "SKU not in this run's products")

    def _reference_notes(self, chosen: Sequence[DatasetName]) -> list[str]:
        if "order_items" in chosen and "orders" not in chosen:
            return ["order items sent without orders in this run: order numbers not checked"]
        return []

    # -- files ----------------------------------------------------------------------------

    def file_name(self, name: DatasetName) -> str:
        assert isinstance(self.destination, ListrakFilesDestination)
        template = self.destination.datasets[name].file_name or DATASETS[name].file_name
        local_now = self.now.astimezone(ZoneInfo(self.destination.timezone))
        return template.format(date=local_now.strftime(self.destination.date_format))

    def write_dir(self, names: Sequence[str], out_dir: Path) -> ExportReport:
        """Write the data sets as Listrak files into ``out_dir``."""
        destination = self.destination
        if not isinstance(destination, ListrakFilesDestination):
            raise ExportError("files need a listrak_files destination")
        chosen = self._selected(names)
        report = ExportReport("dir", [], self._reference_notes(chosen))
        for name in chosen:
            dataset = DATASETS[name]
            entry = self._report(name)
            report.datasets.append(entry)
            validator = self._validator(dataset, entry, "file")
            encoder = CsvEncoder(
                validator.schema,
                delimiter=destination.delimiter,
                terminator=destination.line_terminator,
            )
            entry.file_name = self.file_name(name)

            def references(
                batch: pa.RecordBatch,
                rows: pa.Array,
                name: DatasetName = name,
                entry: DatasetReport = entry,
            ) -> None:
                self._check_references(name, entry, batch, rows)

            try:
                result = write_file(
                    self._read(dataset, entry),
                    validator,
                    encoder,
                    out_dir / entry.file_name,
                    on_batch=references,
                )
            except (ExportError, MappingError, OSError) as exc:
                entry.error = str(exc)
                continue
            self._remember(name, validator)
            entry.rows_read, entry.rows_written = result.rows_read, result.rows_written
            entry.rows_rejected, entry.size = result.rows_rejected, result.size
            entry.location = str(result.path)
        return report

    async def upload(self, names: Sequence[str], sftp: SftpTarget) -> ExportReport:
        """Build the files in a spool folder, then upload them over SFTP in one connection."""
        destination = self.destination
        if not isinstance(destination, ListrakFilesDestination):
            raise ExportError("files need a listrak_files destination")
        with tempfile.TemporaryDirectory(
            prefix="listrak-files-", dir=destination.spool_dir
        ) as spool:
            report = self.write_dir(names, Path(spool))
            report.target = "sftp"
            ready = [d for d in report.datasets if d.error is None and d.location]
            try:
                uploads = await upload_files(
                    sftp, [(Path(str(d.location)), str(d.file_name)) for d in ready]
                )
            except SftpError as exc:
                for entry in ready:
                    entry.error, entry.location = str(exc), None
                return report
            for entry, upload in zip(ready, uploads, strict=True):
                entry.location = f"sftp://{sftp.host}:{sftp.port}/{upload.remote_path.lstrip('/')}"
        return report

    # -- Data Import API ------------------------------------------------------------------

    async def send(self, names: Sequence[str], data: DataApi) -> ExportReport:
        """Send the data sets through ``POST /data/v1/Customer|Product|Order``."""
        if not isinstance(self.destination, ListrakDataDestination):
            raise ExportError("the Data Import API needs a listrak_data destination")
        chosen = self._selected(names)
        if "order_items" in chosen and "orders" not in chosen:
            raise ExportError(
                "order items travel inside orders in the Data Import API: export orders too"
            )
        report = ExportReport("api", [])
        for name in ("customers", "products"):
            if name in chosen:
                report.datasets.append(await self._send_flat(name, data))
        if "orders" in chosen:
            report.datasets.extend(await self._send_orders("order_items" in chosen, data))
        return report

    async def _send_flat(self, name: DatasetName, data: DataApi) -> DatasetReport:
        dataset = DATASETS[name]
        entry = self._report(name)
        validator = self._validator(dataset, entry, "api")
        resource = dataset.api_resource
        assert resource is not None
        try:
            for batch in self._read(dataset, entry):
                checked = validator.check(batch, entry.rows_read + 1)
                entry.rows_read += batch.num_rows
                entry.rows_rejected += checked.rejected
                records = to_records(api_batch(checked.batch, validator.columns))
                if records:
                    results = await data.import_records(resource, records)
                    entry.resource_ids.extend(r.resource_id for r in results if r.resource_id)
                    entry.requests += len(results)
                    entry.rows_written += len(records)
        except (ExportError, MappingError) as exc:
            entry.error = str(exc)
        return entry

    async def _send_orders(self, with_items: bool, data: DataApi) -> list[DatasetReport]:
        orders = self._report("orders")
        items = self._report("order_items") if with_items else None
        entries = [orders] + ([items] if items else [])
        spool = Path(tempfile.mkdtemp(prefix="listrak-data-"))
        join = OrderJoin(spool / "orders.duckdb")
        try:
            for entry, table in ((orders, "orders"), (items, "items")):
                if entry is None:
                    continue
                dataset = DATASETS[entry.dataset]
                validator = self._validator(dataset, entry, "api")
                try:
                    for batch in self._read(dataset, entry):
                        checked = validator.check(batch, entry.rows_read + 1)
                        entry.rows_read += batch.num_rows
                        entry.rows_rejected += checked.rejected
                        if checked.batch.num_rows:
                            join.add(
                                table, api_batch(checked.batch, validator.columns), checked.rows
                            )
                except (ExportError, MappingError) as exc:
                    entry.error = str(exc)
            if items is not None and items.error is not None:
                # Orders without their items would tell Listrak a different story: send neither.
                orders.error = orders.error or f"not sent: order items failed ({items.error})"
            if orders.error is not None:
                return entries
            if items is not None and items.error is None:
                orphans = join.orphans()
                items.issues.add(
                    orphans,
                    "ordernumber",
                    "order not among this run's valid orders; not sent",
                    "error",
                )
                items.rows_rejected += len(orphans)
                items.rows_written = items.rows_read - items.rows_rejected
            for batch in join.orders(self.batch_size):
                records = to_records(batch)
                results = await data.import_records("Order", records)
                orders.resource_ids.extend(r.resource_id for r in results if r.resource_id)
                orders.requests += len(results)
                orders.rows_written += len(records)
        finally:
            join.close()
            shutil.rmtree(spool, ignore_errors=True)
        return entries
