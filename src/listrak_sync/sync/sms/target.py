"""What an SMS destination writes to: a phone list of a sender code, and the profile field
of each attribute.

The engine journals it (``SmsTarget.journal()``) and a resumed run reloads it; its keys are
those the untyped dict of earlier versions had, so a run killed before an upgrade resumes
after it.
"""

from __future__ import annotations

from pydantic import Field

from ..target import SyncTarget
from .fields import FieldMatch

__all__ = ["SmsTarget"]


class SmsTarget(SyncTarget):
    """An SMS destination's prepared target."""

    sender_code_id: int  # Listrak's short code id
    list_id: int  # the phone list's id
    pending_on_subscribe: bool  # the list requires double opt-in or an age gate
    sender_code: str | None = None  # the short code itself, as shown to the user
    list_name: str | None = None
    fields: list[FieldMatch] = Field(
        default_factory=list
    )  # attribute i → profile field, in attribute order
    opted_out: int = 0  # numbers opted out of the sender code when the run was prepared
