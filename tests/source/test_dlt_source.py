"""The dlt source: real dlt pipelines into DuckDB files, against the emulator."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import EMAIL_CLIENT, SMS_CLIENT, Emulator
from tests.source.conftest import EXTRA_FIELDS, LIST_ID, SENDER, seed_email, seed_sms

dlt = pytest.importorskip("dlt")

from listrak_sync.source.dlt_source import listrak  # noqa: E402  (needs the dlt extra)

DATASET = "listrak_data"


@pytest.fixture
def dlt_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """dlt with no telemetry, its folders in tmp_path, and the credentials as dlt secrets."""
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt-data"))
    monkeypatch.setenv("DLT_PROJECT_DIR", str(tmp_path))
    for name, (client_id, secret) in (("EMAIL", EMAIL_CLIENT), ("SMS", SMS_CLIENT)):
        monkeypatch.setenv(f"SOURCES__LISTRAK__{name}_CREDENTIALS__CLIENT_ID", client_id)
        monkeypatch.setenv(f"SOURCES__LISTRAK__{name}_CREDENTIALS__CLIENT_SECRET", secret)
    return tmp_path


def _run(root: Path, source: Any) -> Any:
    pipeline = dlt.pipeline(
        pipeline_name="listrak_test",
        destination=dlt.destinations.duckdb(str(root / "dlt.duckdb")),
        dataset_name=DATASET,
        pipelines_dir=str(root / "pipelines"),
    )
    pipeline.run(source).raise_on_failed_jobs()
    return pipeline


def _query(root: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(root / "dlt.duckdb"), read_only=True) as db:
        return db.sql(sql.replace("{ds}", DATASET)).fetchall()


def _columns(root: Path, table: str) -> list[str]:
    rows = _query(root, f"SELECT column_name FROM (DESCRIBE {{ds}}.{table})")
    return [r[0] for r in rows]


def _post_contact(emulator: Emulator, email: str, state: str, **query: str) -> None:
    with emulator.http() as http:
        answer = http.post(
            f"/email/v1/List/{LIST_ID}/Contact",
            params=query,
            json={"emailAddress": email, "subscriptionState": state, "segmentationFieldValues": []},
        )
    assert answer.status_code in (200, 201), answer.text


def test_email_contacts_messages_activity_then_incremental(
    dlt_env: Path, emulator: Emulator
) -> None:
    activity = [
        {"emailAddress": f"person{i:05d}@example.com", "open": i % 2 == 0} for i in range(1, 301)
    ]
    seed_email(
        emulator,
        3_000,
        messages=[
            {
                "messageId": 9001,
                "subject": "Spring",
                "sendDate": "2026-03-01T10:00:00",
                "activity": activity,
            },
        ],
    )
    source = listrak(list_id=LIST_ID, fields=[101, 102, 103, 104], base_url=emulator.base_url)
    emulator.admin.clear_requests()

    _run(dlt_env, source)

    counts = dict(
        _query(dlt_env, "SELECT subscription_state, count(*) FROM {ds}.email_contacts GROUP BY 1")
    )
    assert counts == {"Subscribed": 2_700, "Unsubscribed": 300}
    assert _columns(dlt_env, "email_contacts")[:16] == [
        "list_id", "email_lower", "email_address", "email_key", "subscription_state",
        "subscribe_date", "resubscribe_date", "subscribe_method", "unsubscribe_date",
        "unsubscribe_method", "external_contact_id", "subscribed", "first_name", "city",
        "customer_id", "loyalty_tier",
    ]  # fmt: skip
    row = _query(
        dlt_env,
        "SELECT city, customer_id, subscribed, changed_at FROM {ds}.email_contacts"
        " WHERE email_lower = 'person00010@example.com'",
    )
    assert [(r[0], r[1], r[2], r[3].isoformat()) for r in row] == [
        ("Austin", "C000010", False, "2026-01-02T08:10:00+00:00")
    ]
    # One page per state at the maximum page size.
    assert emulator.admin.requests().get("Contact_GetContactCollection") == 2
    assert _query(dlt_env, "SELECT message_id, subject FROM {ds}.messages") == [(9001, "Spring")]
    opens = _query(
        dlt_env, "SELECT opened, count(*) FROM {ds}.message_activity GROUP BY 1 ORDER BY 1"
    )
    assert opens == [(False, 150), (True, 150)]

    _post_contact(emulator, "person00001@example.com", "Unsubscribed")
    _post_contact(emulator, "person00010@example.com", "Subscribed", overrideUnsubscribe="true")
    _post_contact(emulator, "new.person@example.com", "Subscribed")
    emulator.admin.clear_requests()
    # Pages of 1,000: a whole read would take four requests, the changes take one per state.
    pipeline = _run(dlt_env, listrak(list_id=LIST_ID, fields=[101, 102, 103, 104],
                                     base_url=emulator.base_url, page_size=1_000))  # fmt: skip

    # The three changes; the newest contact of the first run, read again (the start is
    # inclusive), is dropped by dlt as already loaded.
    loaded = pipeline.last_trace.last_normalize_info.row_counts
    assert loaded["email_contacts"] == 3
    # The message is within the lookback window: it and its activity are read again.
    assert (loaded["messages"], loaded["message_activity"]) == (1, 300)
    states = _query(
        dlt_env,
        "SELECT email_lower, subscription_state FROM {ds}.email_contacts WHERE email_lower IN"
        " ('person00001@example.com', 'person00010@example.com', 'new.person@example.com')"
        " ORDER BY 1",
    )
    assert states == [
        ("new.person@example.com", "Subscribed"),
        ("person00001@example.com", "Unsubscribed"),
        ("person00010@example.com", "Subscribed"),
    ]
    assert _query(dlt_env, "SELECT count(*) FROM {ds}.email_contacts") == [(3_001,)]
    # Only the changes were asked for: Listrak was given the cursor as the start date.
    assert emulator.admin.requests().get("Contact_GetContactCollection") == 2


def test_more_than_30_fields_in_passes(dlt_env: Path, emulator: Emulator) -> None:
    seed_email(emulator, 2_000)
    source = listrak(
        list_id=LIST_ID, all_fields=True, field_names={104: "tier"}, base_url=emulator.base_url
    )
    _run(dlt_env, source.with_resources("email_contacts"))

    columns = _columns(dlt_env, "email_contacts")
    assert {"first_name", "tier", "extra01", f"extra{EXTRA_FIELDS}"} <= set(columns)
    rows = _query(
        dlt_env,
        f"SELECT count(*), count(extra01), count(extra{EXTRA_FIELDS}), count(first_name)"
        " FROM {ds}.email_contacts",
    )
    assert rows == [(2_000, 40, 40, 2_000)]
    assert _query(
        dlt_env,
        "SELECT extra31 FROM {ds}.email_contacts WHERE email_lower = 'person00050@example.com'",
    ) == [("x31-50",)]


def test_sms_contacts_and_opt_outs(dlt_env: Path, emulator: Emulator) -> None:
    seed_sms(emulator, 2_100)
    _run(dlt_env, listrak(sender_code_id=SENDER, base_url=emulator.base_url))

    by_list = _query(
        dlt_env,
        "SELECT phone_list_id, opted_out, count(*) FROM {ds}.sms_contacts GROUP BY 1, 2"
        " ORDER BY 1, 2",
    )
    # List 2001: every 7th opted out, every 11th (not 7th) unsubscribed; 2002: every 5th.
    opted_out_2001 = 2_100 // 7 + 2_100 // 11 - 2_100 // 77
    opted_out_2002 = 2_100 // 35
    assert by_list == [
        (2001, False, 2_100 - opted_out_2001),
        (2001, True, opted_out_2001),
        (2002, False, 420 - opted_out_2002),
        (2002, True, opted_out_2002),
    ]
    row = _query(
        dlt_env,
        "SELECT sender_code_id, email_address, first_name, tier FROM {ds}.sms_contacts"
        " WHERE email_address = 'sms2@example.com'",
    )
    assert row == [(SENDER, "sms2@example.com", "Sam2", "gold0")]
    assert _query(dlt_env, "SELECT count(*) FROM {ds}.sms_opt_outs") == [(2_100 // 7,)]


def test_no_secret_in_logs_state_or_data(
    dlt_env: Path, emulator: Emulator, caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    seed_email(emulator, 500)
    seed_sms(emulator, 100)
    caplog.set_level(logging.DEBUG)
    _run(dlt_env, listrak(list_id=LIST_ID, sender_code_id=SENDER, base_url=emulator.base_url))

    out, err = capfd.readouterr()
    secrets = [EMAIL_CLIENT[1], SMS_CLIENT[1]]
    for secret in secrets:
        assert secret not in caplog.text
        assert secret not in out + err
    written = [p for p in dlt_env.rglob("*") if p.is_file()]
    assert any(p.name == "dlt.duckdb" for p in written)
    for path in written:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, path


def test_missing_credentials_are_named(
    dlt_env: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCES__LISTRAK__SMS_CREDENTIALS__CLIENT_SECRET")
    with pytest.raises(Exception, match="sms_credentials"):
        _run(dlt_env, listrak(sender_code_id=SENDER, base_url=emulator.base_url))


def test_a_failing_resource_shows_its_own_error_only(
    dlt_env: Path, emulator: Emulator, capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    seed_email(
        emulator,
        50,
        messages=[{"messageId": 9001, "subject": "S", "sendDate": "2026-03-01T10:00:00"}],
    )
    with pytest.raises(Exception, match="999") as failed:
        _run(dlt_env, listrak(list_id=LIST_ID, fields=[999], base_url=emulator.base_url))

    assert "email_contacts" in str(failed.value)
    out, err = capfd.readouterr()
    # Not the other resources' noise: dlt closing async generators that are mid-step.
    printed = out + err + caplog.text
    assert "already running" not in printed
    assert "error occurred during closing" not in printed
