"""The sync project fixture of tests/sync, for the library's calls."""

from tests.sync.conftest import project

__all__ = ["project"]
