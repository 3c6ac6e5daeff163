"""Imports started in a thread while a sync's first requests wait (sync/warm_up.py).

Fresh interpreters: the test process has long imported everything."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.strip()


def test_an_installed_module_is_imported_in_a_thread() -> None:
    pytest.importorskip("pandas")  # the module warmed up for pyarrow, when installed
    out = _run(
        "import sys\n"
        "from listrak_sync.sync.warm_up import import_in_background\n"
        "assert 'pandas' not in sys.modules\n"
        "thread = import_in_background()\n"
        "assert thread is not None and not thread.daemon\n"
        "thread.join()\n"
        "print('pandas' in sys.modules)\n"
    )
    assert out == "True"


def test_nothing_starts_for_missing_or_imported_modules() -> None:
    out = _run(
        "import json\n"
        "from listrak_sync.sync.warm_up import import_in_background\n"
        "print(import_in_background(('json', 'no_such_module_here', 'no_such.sub')))\n"
    )
    assert out == "None"


def test_a_module_that_fails_to_import_is_left_to_its_user() -> None:
    out = _run(
        "import sys\n"
        "from listrak_sync.sync.warm_up import import_in_background\n"
        "import importlib.abc, importlib.machinery\n"
        "class Broken(importlib.abc.Loader):\n"
        "    def create_module(self, spec): return None\n"
        "    def exec_module(self, module): raise RuntimeError('broken')\n"
        "class Finder(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name == 'broken_here':\n"
        "            return importlib.machinery.ModuleSpec(name, Broken())\n"
        "sys.meta_path.insert(0, Finder())\n"
        "thread = import_in_background(('broken_here',))\n"
        "thread.join()\n"
        "print('broken_here' in sys.modules)\n"
    )
    assert out == "False"
