"""Start-up of ``listrak-sync``: a command imports only its own part of the product.

Fresh interpreters report which modules got imported; no timings are asserted.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from listrak_sync.cli import _Commands, app
from listrak_sync.lazy_group import LazyCommand

HEAVY = ("asyncssh", "uvicorn", "duckdb", "pyarrow", "sqlglot", "prometheus_client")


def _imported_after(code: str) -> set[str]:
    """Run ``code`` in a fresh interpreter; the top-level packages and listrak_sync modules it
    imported."""
    probe = (
        "import json, sys\n"
        f"{code}\n"
        "names = {n.partition('.')[0] for n in sys.modules} | {n for n in sys.modules "
        "if n.startswith('listrak_sync.')}\n"
        "print(json.dumps(sorted(names)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def _run_cli(*args: str) -> str:
    """``listrak-sync ARGS`` (which must exit 0) inside the probe, its output sent to stderr."""
    return (
        "import contextlib\n"
        "from listrak_sync.cli import app\n"
        "with contextlib.redirect_stdout(sys.stderr):\n"
        "    try:\n"
        f"        app({list(args)!r})\n"
        "    except SystemExit as exit:\n"
        "        assert exit.code in (0, None), exit.code\n"
    )


def test_importing_the_cli_imports_no_part_of_the_product() -> None:
    imported = _imported_after("import listrak_sync.cli")
    assert not imported & set(HEAVY)
    product = {name for name in imported if name.startswith("listrak_sync.")}
    # The error tree (errors.py) is imported by the root command, which maps errors to exit codes;
    # the package root only declares its lazy re-exports (_exports.py).
    assert product == {
        "listrak_sync._exports",
        "listrak_sync.cli",
        "listrak_sync.errors",
        "listrak_sync.lazy_group",
    }


def test_root_help_lists_every_command_without_loading_them() -> None:
    imported = _imported_after(_run_cli("--help"))
    assert not imported & set(HEAVY)
    assert not any(name.startswith("listrak_sync.project") for name in imported)

    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    text = " ".join(result.output.replace("│", " ").split())
    for command in _Commands.lazy_commands:
        assert f"{command.name} {' '.join(command.help.split())}" in text


@pytest.mark.parametrize("command", ["validate", "init"])
def test_project_command_help_skips_the_heavy_parts(command: str) -> None:
    imported = _imported_after(_run_cli(command, "--help"))
    assert not imported & {"asyncssh", "uvicorn", "duckdb", "sqlglot", "prometheus_client"}


def test_loading_a_project_config_skips_the_exporter_server_and_drivers() -> None:
    imported = _imported_after("import listrak_sync.project.loader, listrak_sync.config.models")
    assert not imported & {"asyncssh", "uvicorn", "duckdb", "sqlglot", "prometheus_client"}
    # The models name the warehouse's errors; the warehouse contract names pyarrow's types only
    # in annotations.
    assert not imported & {"pyarrow", "numpy"}


@pytest.mark.parametrize("lazy", _Commands.lazy_commands, ids=lambda lazy: lazy.name)
def test_listed_help_is_the_commands_own(lazy: LazyCommand) -> None:
    real = lazy.load()
    assert real.name == lazy.name
    # The command list shows the first paragraph of the help (typer.rich_utils).
    assert inspect.cleandoc(real.help or "").split("\n\n")[0] == lazy.help


def test_merged_apps_have_every_command_registered() -> None:
    names = {command.name for command in _Commands.lazy_commands}
    for lazy in _Commands.lazy_commands:
        if lazy.merge:
            module_name, _, attribute = lazy.target.partition(":")
            sub_app = getattr(__import__(module_name, fromlist=[attribute]), attribute)
            holder = typer.Typer()
            holder.callback()(lambda: None)
            holder.add_typer(sub_app)
            assert set(typer.main.get_group(holder).commands) <= names


def test_unknown_command_still_suggests_a_close_one() -> None:
    result = CliRunner().invoke(app, ["synk"], env={"COLUMNS": "250"})
    assert result.exit_code == 2
    assert "No such command 'synk'. Did you mean 'sync'?" in result.output


def test_sync_loads_neither_the_exporter_nor_the_servers() -> None:
    # ``listrak_sync.api`` imports each call's module on first use: a sync never loads the
    # file exporter's SFTP client (asyncssh), the emulator or the metrics server.
    imported = _imported_after(_run_cli("sync", "--help"))
    assert not imported & {"asyncssh", "uvicorn", "prometheus_client"}
    assert "listrak_sync.api._export" not in imported


# What a sync loads only once its project has been read and checked: the engine with the
# planner (DuckDB, pyarrow with numpy), the audience query's builder (sqlglot) and the HTTP
# client (httpx2 over aiohttp). ``sync --help``, a typo or a missing project stop before.
SYNC_ENGINE = ("duckdb", "pyarrow", "numpy", "sqlglot", "httpx2", "aiohttp", "phonenumbers")


@pytest.mark.parametrize("command", ["sync", "plan"])
def test_sync_help_loads_neither_the_engine_nor_its_libraries(command: str) -> None:
    imported = _imported_after(_run_cli(command, "--help"))
    assert not imported & set(SYNC_ENGINE)
    assert not {"listrak_sync.sync.engine", "listrak_sync.project.validate"} & imported


def test_a_sync_without_a_project_stops_before_loading_the_engine(tmp_path: Path) -> None:
    probe = (
        "import contextlib\n"
        "from listrak_sync.cli import app\n"
        "with contextlib.redirect_stdout(sys.stderr):\n"
        "    try:\n"
        f"        app(['sync', 'spring', '-p', {str(tmp_path)!r}])\n"
        "    except SystemExit as exit:\n"
        "        assert exit.code == 1, exit.code\n"
    )
    imported = _imported_after(probe)
    assert "listrak_sync.project.loader" in imported  # it did look for the project
    assert not imported & set(SYNC_ENGINE)
    assert "listrak_sync.sync.engine" not in imported


def test_every_api_name_is_found_on_first_use() -> None:
    import listrak_sync.api as api

    for name in api.__all__:
        assert getattr(api, name) is not None, name
