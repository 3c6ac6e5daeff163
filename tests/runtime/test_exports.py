"""The runtime package re-exports its public names, each from one module, and keeps
the heavy parts (HTTP, metrics, cron) out of the project config's imports."""

from __future__ import annotations

import importlib
import subprocess
import sys

import listrak_sync.runtime as package


def _ruff_order(name: str) -> tuple[int, str]:
    group = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return group, name


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert package.__all__ == sorted(package.__all__, key=_ruff_order)
    for name in package.__all__:
        assert getattr(package, name) is not None


def test_every_export_is_declared_by_one_private_module() -> None:
    names = ["_alerts", "_channels", "_executor", "_metrics", "_results"]
    names += ["_scheduler", "_state", "_triggers"]
    modules = [importlib.import_module(f"{package.__name__}.{n}") for n in names]
    for name in package.__all__:
        owners = [m.__name__ for m in modules if name in m.__all__]
        assert len(owners) == 1, (name, owners)


def test_the_config_models_import_nothing_heavy() -> None:
    probe = (
        "import sys, listrak_sync.config.models\n"
        "print(sorted(n for n in ('cronsim', 'httpx2', 'prometheus_client', 'uvicorn') "
        "if n in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
