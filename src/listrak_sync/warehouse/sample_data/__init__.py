"""Sample retail data: customers, orders, products and consent, deliberately messy."""

from typing import TYPE_CHECKING

from ..._exports import lazy_exports

if TYPE_CHECKING:
    from .generator import TABLES, SampleData, generate

__all__ = ["DEFAULT_SEED", "TABLES", "SampleData", "generate"]

# One default for `init --seed`, `sample-data --seed` and generate(): same command, same data.
# Defined here, not in generator.py, so the CLI can show it without importing DuckDB.
DEFAULT_SEED = 42

__getattr__ = lazy_exports(
    __name__, {"TABLES": "generator", "SampleData": "generator", "generate": "generator"}
)
