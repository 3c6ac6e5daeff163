"""Customers, products, orders and order items to Listrak: validated CSV files (local folder or
SFTP) and the Data Import API.

The destinations' settings and the four data sets' columns are ``listrak_sync.config.files`` and
``listrak_sync.config.datasets``. Section numbers in this package's comments (§1.2, §4.1 rule 7
...) are those of the schema document, docs/explanation/listrak-data-files.md."""

from typing import TYPE_CHECKING

from .._exports import lazy_exports

if TYPE_CHECKING:
    from .export import DatasetReport, Exporter, ExportError, ExportReport
    from .issues import IssueLog, RowIssue
    from .mapping import MappingError
    from .sftp import HostKeyError, SftpAuthError, SftpError, Upload, upload_files

__all__ = [
    "DatasetReport",
    "ExportError",
    "ExportReport",
    "Exporter",
    "HostKeyError",
    "IssueLog",
    "MappingError",
    "RowIssue",
    "SftpAuthError",
    "SftpError",
    "Upload",
    "upload_files",
]

# The exporter (pyarrow, asyncssh) loads on first use.
__getattr__ = lazy_exports(
    __name__,
    {
        "DatasetReport": "export",
        "Exporter": "export",
        "ExportError": "export",
        "ExportReport": "export",
        "IssueLog": "issues",
        "RowIssue": "issues",
        "MappingError": "mapping",
        "HostKeyError": "sftp",
        "SftpAuthError": "sftp",
        "SftpError": "sftp",
        "Upload": "sftp",
        "upload_files": "sftp",
    },
)
