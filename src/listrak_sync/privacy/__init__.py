"""Forget requests: deletion requests from the warehouse honoured through Listrak's Privacy API,
and the forgotten set every plan and sync consults (kept as keyed hashes only)."""

from typing import TYPE_CHECKING

from .._exports import lazy_exports

if TYPE_CHECKING:
    from .suppression import ForgottenSet, ForgottenWatch, forgotten_set

__all__ = ["ForgottenSet", "ForgottenWatch", "forgotten_set"]

__getattr__ = lazy_exports(
    __name__,
    {
        "ForgottenSet": "suppression",
        "ForgottenWatch": "suppression",
        "forgotten_set": "suppression",
    },
)
