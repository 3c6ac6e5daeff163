"""The ``listrak_sms`` destination: an SMS list whose membership is a campaign audience."""

from typing import TYPE_CHECKING

from ..._exports import lazy_exports

if TYPE_CHECKING:
    from .destination import SmsSync

__all__ = ["SmsSync"]

__getattr__ = lazy_exports(
    __name__,
    {
        "SmsSync": "destination",
    },
)
