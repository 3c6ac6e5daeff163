"""The generated reference pages match the code they are generated from."""

from __future__ import annotations

from pathlib import Path

import pytest

from listrak_sync.reference_docs import PAGES

REFERENCE = Path(__file__).parent.parent / "docs" / "reference"


@pytest.mark.parametrize("name", sorted(PAGES))
def test_generated_page_is_up_to_date(name: str) -> None:
    written = (REFERENCE / name).read_text(encoding="utf-8")
    assert written == PAGES[name](), (
        f"docs/reference/{name} is out of date: run "
        "`python -m listrak_sync.reference_docs docs/reference`"
    )
