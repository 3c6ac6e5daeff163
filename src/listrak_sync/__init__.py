"""listrak-sync: warehouse-native audience sync between a data warehouse and Listrak."""

__version__ = "0.1.0"

__all__ = ["__version__"]
