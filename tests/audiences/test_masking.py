"""PII masking in previews."""

from __future__ import annotations

from listrak_sync.audiences.masking import mask_email, mask_phone, mask_row


def test_masks() -> None:
    assert mask_email("jane.doe@example.com") == "j***@e***.com"
    assert mask_phone("+16175550123") == "+1********23"
    row = {
        "customer_id": "c1",
        "email": "jane@example.com",
        "first_name": "Jane",
        "Tier": "gold",
        "ltv": 12.5,
        "postal_code": "02134",
        "mobile": None,
    }
    assert mask_row(row) == {
        "customer_id": "c1",
        "email": "j***@e***.com",
        "first_name": "J***",
        "Tier": "gold",
        "ltv": 12.5,
        "postal_code": "0***",
        "mobile": None,
    }
