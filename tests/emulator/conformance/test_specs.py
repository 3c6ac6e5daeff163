"""The specs the emulator ships are Listrak's files, byte for byte."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

SHARED = Path(__file__).parents[4] / "shared" / "listrak-openapi"
SHIPPED = resources.files("listrak_sync.emulator").joinpath("specs")


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} is not on this machine")
def test_shipped_specs_are_the_published_files() -> None:
    published = sorted(path.name for path in SHARED.glob("*.json"))
    shipped = sorted(entry.name for entry in SHIPPED.iterdir() if entry.name.endswith(".json"))
    assert shipped == published
    for name in published:
        assert SHIPPED.joinpath(name).read_bytes() == (SHARED / name).read_bytes(), name
