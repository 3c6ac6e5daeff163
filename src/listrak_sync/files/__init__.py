"""Customers, products, orders and order items to Listrak: validated CSV files (local folder or
SFTP) and the Data Import API."""

from .config import (
    DatasetSource,
    ListrakDataDestination,
    ListrakFilesDestination,
    LocalDirTarget,
    SftpTarget,
    ValidationRules,
)
from .export import DatasetReport, Exporter, ExportError, ExportReport
from .issues import IssueLog, RowIssue
from .mapping import MappingError
from .schemas import DATASET_NAMES, DATASETS, Column, Dataset, DatasetName
from .sftp import HostKeyError, SftpAuthError, SftpError, Upload, upload_files

__all__ = [
    "DATASETS",
    "DATASET_NAMES",
    "Column",
    "Dataset",
    "DatasetName",
    "DatasetReport",
    "DatasetSource",
    "ExportError",
    "ExportReport",
    "Exporter",
    "HostKeyError",
    "IssueLog",
    "ListrakDataDestination",
    "ListrakFilesDestination",
    "LocalDirTarget",
    "MappingError",
    "RowIssue",
    "SftpAuthError",
    "SftpError",
    "SftpTarget",
    "Upload",
    "ValidationRules",
    "upload_files",
]
