"""Forget requests: deletion requests from the warehouse honoured through Listrak's Privacy API,
and the forgotten set every plan and sync consults (kept as keyed hashes only)."""

from .suppression import ForgottenSet, ForgottenWatch, forgotten_set

__all__ = ["ForgottenSet", "ForgottenWatch", "forgotten_set"]
