"""What Listrak holds for one SMS list, read in pages of 5,000: members, leavers, opt-outs.

Three reads tell the sync who exists on the sender code without a Get Contact per number:
the list's members (``optedOut=false``), the numbers that left the list or opted out of the
sender code (``optedOut=true``), and the sender code's opt-outs (every list; banned numbers are
opted out by Listrak, reason ``Admin``). A number in any of them exists on the sender code, so
an addition subscribes it; an opted-out number is reported and never subscribed.

Listrak returns phones as E.164 digits without ``+`` (``12155550101``); they are compared with
the audience's E.164 keys as ``+`` followed by the digits.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ...listrak import SmsApi

__all__ = ["KNOWN", "e164", "read_known", "read_members"]

PHONES = pa.schema([("phone", pa.string())])
OPT_OUTS = pa.schema([("phone", pa.string()), ("reason", pa.string())])
KNOWN = pa.schema([("phone", pa.string()), ("opted_out", pa.bool_()), ("reason", pa.string())])


def e164(numbers: pa.Array) -> pa.Array:
    """Listrak's phone text as E.164: digits get a ``+``; anything with one is kept."""
    text = pc.utf8_trim_whitespace(pc.cast(numbers, pa.string()))
    digits = pc.replace_substring_regex(text, r"[^0-9]", "")
    return pc.binary_join_element_wise("+", digits, "")


def _table(
    phones: list[str], schema: pa.Schema, reasons: list[str | None] | None = None
) -> pa.Table:
    columns: list[pa.Array] = [e164(pa.array(phones, pa.string()))]
    if reasons is not None:
        columns.append(pa.array(reasons, pa.string()))
    table = pa.Table.from_arrays(columns, schema=schema)
    # Pages never repeat a member, but a number written two ways must still count once.
    rest = schema.names[1:]
    grouped = table.group_by("phone").aggregate([(name, "max") for name in rest])
    return grouped.select(["phone", *(f"{name}_max" for name in rest)]).rename_columns(schema.names)


async def read_members(
    sms: SmsApi, sender_code_id: int, phone_list_id: int, *, page_size: int | None = None
) -> pa.Table:
    """The list's subscribed members (``phone``)."""
    members: list[str] = []
    async for contact in sms.contacts(sender_code_id, phone_list_id, page_size=page_size):
        members.append(contact.phone_number)
    return _table(members, PHONES)


async def read_known(
    sms: SmsApi, sender_code_id: int, phone_list_id: int, *, page_size: int | None = None
) -> pa.Table:
    """Numbers known to exist on the sender code without being members: ``phone``,
    ``opted_out`` (of the sender code) and the opt-out ``reason``."""
    left: list[str] = []
    async for contact in sms.contacts(
        sender_code_id, phone_list_id, opted_out=True, page_size=page_size
    ):
        left.append(contact.phone_number)
    opted: list[str] = []
    reasons: list[str | None] = []
    async for opt_out in sms.opt_outs(sender_code_id, page_size=page_size):
        opted.append(opt_out.phone_number)
        reasons.append(opt_out.opt_out_reason)
    gone = _table(left, PHONES)
    opted_out = _table(opted, OPT_OUTS, reasons)
    only_left = gone.filter(
        pc.invert(pc.is_in(gone.column("phone"), value_set=opted_out.column("phone")))
    )
    return pa.concat_tables(
        [
            pa.table(
                [
                    only_left.column("phone"),
                    pa.array([False] * only_left.num_rows, pa.bool_()),
                    pa.nulls(only_left.num_rows, pa.string()),
                ],
                schema=KNOWN,
            ),
            pa.table(
                [
                    opted_out.column("phone"),
                    pa.array([True] * opted_out.num_rows, pa.bool_()),
                    opted_out.column("reason"),
                ],
                schema=KNOWN,
            ),
        ]
    )
