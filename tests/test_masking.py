"""PII masking in previews and log lines."""

from __future__ import annotations

from listrak_sync.masking import mask_email, mask_phone, mask_row, mask_text


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


def test_masks_emails_and_phones_in_free_text() -> None:
    line = (
        "retrying GET /sms/v1/ShortCode/12/Contact/%2B17205550126/PhoneList/349956 in 2.1 s; "
        "also +16175550123, 7205550126, jane.doe@example.com and /Contact/jane%40example.com"
    )
    assert mask_text(line) == (
        "retrying GET /sms/v1/ShortCode/12/Contact/%2B1********26/PhoneList/349956 in 2.1 s; "
        "also +1********23, 7*******26, j***@e***.com and /Contact/j***@e***.com"
    )
    # Ids, counts and durations stay readable.
    assert mask_text("import 1234567 of list 349956 took 12.5 s") == (
        "import 1234567 of list 349956 took 12.5 s"
    )
