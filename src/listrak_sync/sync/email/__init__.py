"""The ``listrak_email`` destination: an email list kept in step with an audience."""

from .destination import EmailSync

__all__ = ["EmailSync"]
