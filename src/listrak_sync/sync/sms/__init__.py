"""The ``listrak_sms`` destination: an SMS list whose membership is a campaign audience."""

from .destination import SmsSync

__all__ = ["SmsSync"]
