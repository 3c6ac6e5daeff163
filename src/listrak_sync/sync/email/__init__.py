"""The ``listrak_email`` destination: an email list kept in step with an audience."""

from typing import TYPE_CHECKING

from ..._exports import lazy_exports

if TYPE_CHECKING:
    from .destination import EmailSync

__all__ = ["EmailSync"]

__getattr__ = lazy_exports(
    __name__,
    {
        "EmailSync": "destination",
    },
)
