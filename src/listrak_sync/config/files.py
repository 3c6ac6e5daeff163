"""Options of the ``listrak_files`` (SFTP) and ``listrak_data`` (Data Import API) destinations.

``destinations.py`` embeds them in the project file (docs/guides/files.md describes them); the
CLI builds them from its options when no project is given. Secrets are ``SecretStr`` so they
never print.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from .datasets import DATASET_NAMES, DATASETS, DatasetName

__all__ = [
    "DatasetSource",
    "ListrakDataDestination",
    "ListrakFilesDestination",
    "LocalDirTarget",
    "SftpTarget",
    "ValidationRules",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatasetSource(_Model):
    """Where one data set comes from: a table or a SQL query, and a column mapping.

    ``columns`` maps Listrak column names (``ordernumber``) to source column names
    (``order_id``); unmapped Listrak columns are matched to source columns by name, ignoring
    case and underscores, then by a few common synonyms (see mapping.py).
    """

    table: str | None = None
    query: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    required: bool = True  # the run fails when a required data set cannot be produced
    file_name: str | None = None  # overrides Listrak's default name; may use {date}

    @model_validator(mode="after")
    def _one_source(self) -> DatasetSource:
        if self.table and self.query:
            raise ValueError("give either table or query, not both")
        return self


class ValidationRules(_Model):
    """Choices the schema document leaves to the exporter (§4), shared by both destinations."""

    long_strings: Literal["reject", "truncate"] = "reject"
    phone_region: str = "US"  # region for numbers written without a country code
    phone_plus: bool = False  # Listrak's example is digits only (17175559636)
    source_timezone: str | None = None  # how to read timestamps without an offset; else reject
    timezone: str = "UTC"  # the run date (file names, "birthday not after today")
    allow_non_positive_quantity: bool = False  # returns modelled as quantity <= 0
    crm_enabled: bool = False  # CRM accounts may key orders on customernumber instead of email

    @field_validator("source_timezone", "timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r}") from exc
        return value


def _default_sources() -> dict[DatasetName, DatasetSource]:
    return {name: DatasetSource() for name in DATASET_NAMES}


class SftpTarget(_Model):
    """Listrak's FTP server over SFTP. Host key checking cannot be turned off.

    In a project file the login fields are refused: ``credential`` names a project credential
    and ``project.sftp_target`` fills them from it (see config/destinations.py).
    """

    host: str = "ftp.listrak.com"
    port: int = Field(default=22, ge=1, le=65535)  # Listrak does not publish the port (§1.1)
    username: str
    password: SecretStr | None = None
    private_key: Path | None = None  # an OpenSSH or PEM private key file
    # The key text itself, as a credential holds it (kept in memory, never written to disk).
    private_key_data: SecretStr | None = None
    passphrase: SecretStr | None = None
    credential: str | None = None  # name of a project credential that fills the fields above
    known_hosts: Path = Path("~/.ssh/known_hosts")
    remote_dir: str = "."
    attempts: int = Field(default=3, ge=1, le=20)
    connect_timeout: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _has_secret(self) -> SftpTarget:
        keys = (self.password, self.private_key, self.private_key_data, self.credential)
        if all(item is None for item in keys):
            raise ValueError("SFTP needs a password, a private_key or a credential")
        if self.private_key is not None and self.private_key_data is not None:
            raise ValueError("give private_key (a file) or private_key_data (the key), not both")
        return self


class LocalDirTarget(_Model):
    """Write the files into a local folder (no server), e.g. for review or another uploader."""

    path: Path


class ListrakFilesDestination(ValidationRules):
    """``listrak_files``: the four data sets as Listrak-named CSV files, uploaded over SFTP."""

    type: Literal["listrak_files"] = "listrak_files"
    sftp: SftpTarget | None = None
    datasets: dict[DatasetName, DatasetSource] = Field(default_factory=_default_sources)
    date_format: str = "%Y%m%d"  # the {date} token; Listrak does not specify it (§1.2)
    delimiter: Literal[",", "|", "\t"] = ","  # only comma is implied by .csv (§1.3)
    line_terminator: Literal["\n", "\r\n"] = "\n"
    spool_dir: Path | None = None  # where files are built before upload; system temp if unset

    @model_validator(mode="after")
    def _distinct_names(self) -> ListrakFilesDestination:
        names = [
            (source.file_name or DATASETS[name].file_name) for name, source in self.datasets.items()
        ]
        if len(set(names)) != len(names):
            raise ValueError("two data sets would be written under the same file name")
        return self


class ListrakDataDestination(ValidationRules):
    """``listrak_data``: the same records through ``POST /data/v1/Customer|Order|Product``."""

    type: Literal["listrak_data"] = "listrak_data"
    credential: str | None = None  # name of the Data integration's client id/secret
    datasets: dict[DatasetName, DatasetSource] = Field(default_factory=_default_sources)
    batch_records: int = Field(default=1000, ge=1)
    # The API takes up to 262,144,000 bytes and answers 404 above it (§3.1); stay far below.
    batch_bytes: int = Field(default=8_000_000, ge=1024, le=200_000_000)
