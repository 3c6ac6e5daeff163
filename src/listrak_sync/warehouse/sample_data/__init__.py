"""Sample retail data: customers, orders, products and consent, deliberately messy."""

from .generator import TABLES, SampleData, generate

__all__ = ["TABLES", "SampleData", "generate"]
