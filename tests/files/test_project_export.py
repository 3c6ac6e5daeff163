"""``listrak-sync export`` driven by the project: its destinations, warehouse, credentials and
Listrak hosts, with the command-line options as overrides."""

from __future__ import annotations

import asyncio
import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from listrak_sync.cli import app
from listrak_sync.warehouse import Warehouse

from ..conftest import DATA_CLIENT, Emulator
from .conftest import PASSWORD, USER, SftpServer

FILES = [
    "Listrak_Customer_{}.csv",
    "Listrak_OrderItem_Feed_{}.csv",
    "Listrak_Order_Feed_{}.csv",
    "Listrak_Product_Feed_{}.csv",
]


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def sample_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``listrak-sync init`` with a few hundred customers, made once and copied per test."""
    root = tmp_path_factory.mktemp("sample") / "shop"
    result = _run("init", str(root), "--customers", "300", "--seed", "3")
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def project(sample_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(sample_project, root)
    monkeypatch.chdir(root)
    return root


def _issues(errors: Path) -> set[tuple[str, str, str]]:
    with errors.open(newline="", encoding="utf-8") as handle:
        return {(r["dataset"], r["column"], r["severity"]) for r in csv.DictReader(handle)}


def _first_order_date(out: Path) -> str:
    (orders,) = out.glob("Listrak_Order_Feed_*.csv")
    with orders.open(newline="", encoding="utf-8") as handle:
        return next(csv.DictReader(handle))["dateentered"]


def test_init_then_export_to_a_folder(project: Path) -> None:
    result = _run("export", "--to", "dir", "--out", "out", "--errors-file", "issues.csv")
    assert result.exit_code == 0, result.output
    date = next((project / "out").glob("Listrak_Customer_*.csv")).stem.rsplit("_", 1)[1]
    assert sorted(p.name for p in (project / "out").iterdir()) == [f.format(date) for f in FILES]
    # The sample's timestamps have no zone; its `source_timezone: UTC` reads them, so only the
    # deliberately bad rows are reported: bad or missing emails, duplicates, odd phones, orders
    # the run left out.
    assert "time zone" not in result.output
    errors = {(d, c) for d, c, severity in _issues(project / "issues.csv") if severity == "error"}
    assert errors <= {("customers", "email"), ("orders", "email"), ("order_items", "sku")}
    assert ("customers", "email") in errors
    assert _first_order_date(project / "out").endswith("Z")


def test_options_override_the_destination(project: Path) -> None:
    assert _run("export", "orders", "--out", "utc").exit_code == 0
    result = _run(
        "export", "orders", "--out", "ny", "--source-timezone", "America/New_York",
        "--date-format", "%Y-%m-%d", "-p", str(project),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert next((project / "ny").iterdir()).name.count("-") == 2
    utc, ny = _first_order_date(project / "utc"), _first_order_date(project / "ny")
    assert utc != ny  # the same wall-clock time read in New York is 4 or 5 hours later in UTC
    assert utc[:10] <= ny[:10]


def test_destination_choice(project: Path) -> None:
    config = project / "listrak-sync.yml"
    doc = yaml.safe_load(config.read_text())
    doc["destinations"]["review"] = {
        "type": "listrak_files",
        "source_timezone": "UTC",
        "datasets": {"products": {"table": "products", "file_name": "products-{date}.csv"}},
    }
    config.write_text(yaml.safe_dump(doc, sort_keys=False))

    several = _run("export", "--out", "out")
    assert several.exit_code == 1
    assert "several listrak_files destinations: files, review" in several.output
    assert "--destination" in several.output

    chosen = _run("export", "--destination", "review", "--out", "out")
    assert chosen.exit_code == 0, chosen.output
    assert [p.name.split("-")[0] for p in (project / "out").iterdir()] == ["products"]

    wrong = _run("export", "-d", "data_api", "--out", "out")
    assert wrong.exit_code == 1
    assert "destination 'data_api' is listrak_data; this export needs listrak_files" in (
        wrong.output
    )
    unknown = _run("export", "-d", "revew", "--out", "out")
    assert unknown.exit_code == 1
    assert "did you mean 'review'?" in unknown.output
    # A data set the chosen destination does not configure cannot be produced.
    missing = _run("export", "orders", "-d", "review", "--out", "out")
    assert missing.exit_code == 1
    assert "not configured for this destination" in missing.output


def test_a_bad_project_is_reported_with_its_line(project: Path) -> None:
    config = project / "listrak-sync.yml"
    config.write_text(
        config.read_text().replace("source_timezone: UTC ", "source_timezone: Mars/Base ")
    )
    result = _run("export", "--out", "out")
    assert result.exit_code == 1
    assert "listrak-sync.yml:" in result.output
    assert "unknown time zone 'Mars/Base'" in result.output
    assert not (project / "out").exists()


# -- SFTP ----------------------------------------------------------------------------------


def _sftp_project(root: Path, shop: Path, server: SftpServer, login: dict[str, Any]) -> Path:
    root.mkdir()
    shutil.copy(server.known_hosts, root / "known_hosts")  # relative paths: the project folder
    doc = {
        "warehouse": {"connection": str(shop)},
        "credentials": {"listrak_ftp": {"type": "sftp", "username": USER, **login}},
        "destinations": {
            "ftp": {
                "type": "listrak_files",
                "sftp": {
                    "host": server.host,
                    "port": server.port,
                    "credential": "listrak_ftp",
                    "known_hosts": "known_hosts",
                    "remote_dir": "/incoming",
                    "connect_timeout": 10,
                },
            }
        },
    }
    (root / "listrak-sync.yml").write_text(yaml.safe_dump(doc, sort_keys=False), "utf-8")
    return root


async def _in_thread(*args: str) -> Result:
    # The in-process SFTP server runs on this test's event loop; the CLI runs its own.
    return await asyncio.to_thread(_run, *args)


async def test_project_sftp_with_a_named_credential(
    sftp_server: SftpServer, warehouse: Warehouse, tmp_path: Path
) -> None:
    warehouse.close()
    key_text = sftp_server.client_key.read_text()
    root = _sftp_project(
        tmp_path / "proj", tmp_path / "shop.duckdb", sftp_server,
        {"private_key": {"secret": "ftp_key"}},
    )  # fmt: skip
    secrets = root / "secrets.yml"
    secrets.write_text(yaml.safe_dump({"ftp_key": key_text}), "utf-8")
    secrets.chmod(0o600)

    result = await _in_thread("export", "customers", "products", "--to", "sftp", "-p", str(root))
    assert result.exit_code == 0, result.output
    assert [name.split("_")[1] for name in sftp_server.files()] == ["Customer", "Product"]
    assert "PRIVATE KEY" not in result.output
    # Same bytes as a local export of the same run day.
    local = await _in_thread("export", "customers", "--out", str(tmp_path / "l"), "-p", str(root))
    assert local.exit_code == 0, local.output
    (built,) = (tmp_path / "l").iterdir()
    assert (sftp_server.root / "incoming" / built.name).read_bytes() == built.read_bytes()


async def test_project_sftp_credential_problems_and_command_line_login(
    sftp_server: SftpServer,
    warehouse: Warehouse,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    warehouse.close()
    login = {"password": {"env": "LSYNC_TEST_FTP_PASSWORD"}}
    root = _sftp_project(tmp_path / "proj", tmp_path / "shop.duckdb", sftp_server, login)
    monkeypatch.delenv("LSYNC_TEST_FTP_PASSWORD", raising=False)
    unset = await _in_thread("export", "products", "--to", "sftp", "-p", str(root))
    assert unset.exit_code == 1
    assert "environment variable LSYNC_TEST_FTP_PASSWORD is not set" in unset.output
    assert sftp_server.connections == 0  # refused before connecting, and before any file

    # --user and --password-env replace the credential; host and folder stay the project's.
    monkeypatch.setenv("LSYNC_OTHER_PASSWORD", PASSWORD)
    result = await _in_thread(
        "export", "products", "--to", "sftp", "-p", str(root),
        "--user", USER, "--password-env", "LSYNC_OTHER_PASSWORD",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(sftp_server.files()) == 1
    assert PASSWORD not in result.output


async def test_project_files_destination_without_sftp_block(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    warehouse.close()
    root = tmp_path / "proj"
    root.mkdir()
    doc = {
        "warehouse": {"connection": str(tmp_path / "shop.duckdb")},
        "destinations": {"files": {"type": "listrak_files"}},
    }
    (root / "listrak-sync.yml").write_text(yaml.safe_dump(doc), "utf-8")
    result = await _in_thread("export", "--to", "sftp", "-p", str(root))
    assert result.exit_code == 1
    assert "destination 'files' has no `sftp:` block" in result.output


# -- Data Import API -----------------------------------------------------------------------


def _api_project(root: Path, shop: Path, emulator: Emulator, **destination: Any) -> Path:
    root.mkdir()
    doc = {
        "warehouse": {"connection": str(shop)},
        "listrak": {"api_url": emulator.base_url, "auth_url": emulator.base_url},
        "credentials": {
            "listrak_data": {
                "type": "listrak",
                "client_id": DATA_CLIENT[0],
                "client_secret": {"secret": "data_secret"},
            }
        },
        "destinations": {
            "data": {"type": "listrak_data", "credential": "listrak_data", **destination}
        },
    }
    (root / "listrak-sync.yml").write_text(yaml.safe_dump(doc, sort_keys=False), "utf-8")
    secrets = root / "secrets.yml"
    secrets.write_text(yaml.safe_dump({"data_secret": DATA_CLIENT[1]}), "utf-8")
    secrets.chmod(0o600)
    return root


def test_project_api_export(emulator: Emulator, warehouse: Warehouse, tmp_path: Path) -> None:
    warehouse.close()
    root = _api_project(tmp_path / "proj", tmp_path / "shop.duckdb", emulator, batch_records=2)
    result = _run("export", "--to", "api", "-p", str(root))
    assert result.exit_code == 0, result.output
    assert DATA_CLIENT[1] not in result.output
    state = emulator.admin.state(full=True)["data"]
    assert sorted(c["email"] for c in state["customers"]) == [
        "jane@example.com",
        "zoë@exämple.com",
    ]
    assert len(state["products"]) == 4
    assert sorted(o["orderNumber"] for o in state["orders"]) == ["0531435151", "0531435152"]
    # batch_records: 2 is the client's batch size: 4 products in 2 calls.
    assert emulator.admin.requests()["Product_PostProductCollection"] == 2


def test_project_api_needs_a_data_destination(
    emulator: Emulator, warehouse: Warehouse, tmp_path: Path
) -> None:
    warehouse.close()
    root = _api_project(tmp_path / "proj", tmp_path / "shop.duckdb", emulator)
    config = root / "listrak-sync.yml"
    config.write_text(config.read_text().replace("type: listrak_data", "type: listrak_files"))
    config.write_text(config.read_text().replace("    credential: listrak_data\n", ""))
    result = _run("export", "--to", "api", "-p", str(root))
    assert result.exit_code == 1
    assert "no listrak_data destination" in result.output
    assert not emulator.admin.requests()


async def test_a_failed_upload_delivers_no_rows(
    sftp_server: SftpServer, warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse.close()
    login = {"password": {"env": "LSYNC_TEST_FTP_PASSWORD"}}
    root = _sftp_project(tmp_path / "proj", tmp_path / "shop.duckdb", sftp_server, login)
    monkeypatch.setenv("LSYNC_TEST_FTP_PASSWORD", "not-the-password")
    result = await _in_thread("export", "products", "--to", "sftp", "-p", str(root), "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    (products,) = document["datasets"]
    assert products["rows_read"] > 0
    assert products["rows_delivered"] == 0  # built in the spool, never uploaded
    assert products["error"]
    assert sftp_server.files() == []
    table = await _in_thread("export", "products", "--to", "sftp", "-p", str(root))
    row = next(line for line in table.stdout.splitlines() if "products" in line)
    assert [cell.strip() for cell in row.split("│")][2:4] == [str(products["rows_read"]), "0"]
