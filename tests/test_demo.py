"""``listrak-sync demo`` end to end, as a user runs it: PII masked, projects kept only if asked."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

CLI = str(Path(sys.executable).parent / "listrak-sync")
EMAIL = re.compile(r"[a-z0-9._%+-]{2,}@[a-z0-9-]+\.[a-z]{2,}", re.I)
PHONE = re.compile(r"\+\d{10,}")
KEPT = re.compile(r"kept the demo projects in (\S+)")


def _demo(*args: str) -> str:
    done = subprocess.run(
        [CLI, "demo", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_demo_masks_pii_and_keeps_its_projects_only_with_keep() -> None:
    output = _demo()
    assert not EMAIL.search(output), EMAIL.search(output)
    assert not PHONE.search(output), PHONE.search(output)
    assert "listrak-sync-demo-" not in output  # no path to a folder that is gone
    assert "demo finished" in output

    output = _demo("--keep", "--show-pii")
    assert EMAIL.search(output)
    found = KEPT.search(output)
    assert found, output[-2000:]
    kept = Path(found[1])
    try:
        assert (kept / "email" / "listrak-sync.yml").exists()
        assert (kept / "sms" / "warehouse.duckdb").exists()
    finally:
        shutil.rmtree(kept, ignore_errors=True)
