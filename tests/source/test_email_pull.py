"""Email contacts into the warehouse: full and incremental pulls, fields, subscribed-only."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from listrak_sync.config.sources import EmailSource
from listrak_sync.source.email import EmailContacts
from listrak_sync.source.streams import PAGE_COLUMN
from listrak_sync.state import StateStore
from listrak_sync.sync.workspace import Workspace
from listrak_sync.warehouse import connect
from tests.conftest import Emulator
from tests.source.conftest import (
    EXTRA_FIELDS,
    LIST_ID,
    SourceProject,
    email_source,
    seed_email,
)

ALL_FIELDS = [101, 102, 103, 104, *range(201, 201 + EXTRA_FIELDS)]
TABLE = "listrak_news_contacts"


def _post_contact(emulator: Emulator, email: str, state: str, **query: str) -> None:
    with emulator.http() as http:
        answer = http.post(
            f"/email/v1/List/{LIST_ID}/Contact",
            params=query,
            json={"emailAddress": email, "subscriptionState": state, "segmentationFieldValues": []},
        )
    assert answer.status_code in (200, 201), answer.text


def _by_state(project: SourceProject) -> dict[str, int]:
    rows = project.query(f"SELECT subscription_state, count(*) FROM {TABLE} GROUP BY 1")
    return dict(rows)


def test_full_pull_of_tens_of_thousands_with_more_than_30_fields(project: SourceProject) -> None:
    seed_email(project.emulator, 20_000)
    project.write({"news": email_source(fields=ALL_FIELDS, field_names={104: "tier"})})
    project.emulator.admin.clear_requests()

    result = project.pull()

    assert result.exit_code == 0, result.output
    assert _by_state(project) == {"Subscribed": 18_000, "Unsubscribed": 2_000}
    columns = [r[0] for r in project.query(f"SELECT column_name FROM (DESCRIBE {TABLE})")]
    assert columns[:12] == [
        "list_id",
        "email_lower",
        "email_address",
        "email_key",
        "subscription_state",
        "subscribe_date",
        "resubscribe_date",
        "subscribe_method",
        "unsubscribe_date",
        "unsubscribe_method",
        "external_contact_id",
        "subscribed",
    ]
    # Field ids resolved to the fields' names, the override applied, 35 fields in two passes.
    assert columns[12:16] == ["first_name", "city", "customer_id", "tier"]
    assert columns[16:47] == [f"extra{k:02d}" for k in range(1, EXTRA_FIELDS + 1)]
    assert columns[47:] == ["changed_at", "pulled_at", "run_id"]
    row = project.query(
        f"SELECT email_address, first_name, customer_id, extra01, extra31, subscribed,"
        f" CAST(unsubscribe_date AS VARCHAR) FROM {TABLE}"
        " WHERE email_lower = 'person00050@example.com'"
    )
    assert row == [
        (
            "Person00050@Example.com",
            "First50",
            "C000050",
            "x1-50",
            "x31-50",
            False,
            "2026-01-02 08:50:00",
        )
    ]
    assert project.query(f"SELECT count(*) FROM {TABLE} WHERE extra31 IS NOT NULL") == [(400,)]
    # The maximum page size: 18,000 + 2,000 contacts in 5 pages per field pass.
    requests = project.emulator.admin.requests()
    assert requests["Contact_GetContactCollection"] == 10
    run = project.runs("news")[0]
    assert run.status == "succeeded"
    assert run.counts == {"contacts_subscribed": 18_000, "contacts_unsubscribed": 2_000}
    assert run.details["full"] is True
    assert [f["column"] for f in run.details["fields"]][:4] == [
        "first_name",
        "city",
        "customer_id",
        "tier",
    ]
    # No staging tables are left behind.
    tables = {r[0] for r in project.query("SELECT table_name FROM duckdb_tables()")}
    assert tables == {TABLE}


def test_incremental_pull_reads_only_changes(project: SourceProject) -> None:
    seed_email(project.emulator, 3_000)
    project.write({"news": email_source(fields=[101, 103])})
    assert project.pull().exit_code == 0
    _post_contact(project.emulator, "person00001@example.com", "Unsubscribed")
    _post_contact(
        project.emulator, "person00010@example.com", "Subscribed", overrideUnsubscribe="true"
    )
    _post_contact(project.emulator, "new.person@example.com", "Subscribed")

    result = project.pull()

    assert result.exit_code == 0, result.output
    run = project.runs("news")[0]
    assert run.details["full"] is False
    assert run.details["since"] == "2026-01-04T10:00:00"
    # Three changes, plus the contact with the newest date (the inclusive start reads it again).
    assert run.counts == {"contacts_subscribed": 2, "contacts_unsubscribed": 2}
    states = dict(
        project.query(
            f"SELECT email_lower, subscription_state FROM {TABLE} WHERE email_lower IN"
            " ('person00001@example.com', 'person00010@example.com', 'new.person@example.com')"
        )
    )
    assert states == {
        "person00001@example.com": "Unsubscribed",
        "person00010@example.com": "Subscribed",
        "new.person@example.com": "Subscribed",
    }
    assert _by_state(project) == {"Subscribed": 2_701, "Unsubscribed": 300}
    # Values pulled the first time are kept for contacts the incremental read did not touch.
    assert project.query(
        f"SELECT first_name FROM {TABLE} WHERE email_lower = 'person00002@example.com'"
    ) == [("First2",)]

    full = project.pull("--full")
    assert full.exit_code == 0
    assert project.runs("news")[0].details["full"] is True
    assert _by_state(project) == {"Subscribed": 2_701, "Unsubscribed": 300}


def test_changed_fields_make_the_next_pull_full(project: SourceProject) -> None:
    seed_email(project.emulator, 50)
    project.write({"news": email_source(fields=[101])})
    assert project.pull().exit_code == 0
    project.write({"news": email_source(fields=[101, 102])})
    assert project.pull().exit_code == 0
    assert project.runs("news")[0].details["full"] is True
    assert project.query(
        f"SELECT city FROM {TABLE} WHERE email_lower = 'person00001@example.com'"
    ) == [("Austin",)]


def test_subscribed_only(project: SourceProject) -> None:
    seed_email(project.emulator, 1_000)
    project.write({"news": email_source(subscribed_only=True, fields=[101])})
    assert project.pull().exit_code == 0
    assert _by_state(project) == {"Subscribed": 900}
    _post_contact(project.emulator, "person00003@example.com", "Unsubscribed")

    assert project.pull().exit_code == 0

    assert _by_state(project) == {"Subscribed": 899}
    assert project.query(
        f"SELECT count(*) FROM {TABLE} WHERE email_lower = 'person00003@example.com'"
    ) == [(0,)]


def test_all_fields_and_errors_naming_the_field(project: SourceProject) -> None:
    seed_email(project.emulator, 20)
    project.write({"news": email_source(all_fields=True)})
    assert project.pull().exit_code == 0
    columns = [r[0] for r in project.query(f"SELECT column_name FROM (DESCRIBE {TABLE})")]
    assert "loyalty_tier" in columns
    assert "extra31" in columns

    project.write({"news": email_source(fields=[101, 999])})
    failed = project.pull()
    assert failed.exit_code == 1
    assert "list 5001 has no profile field 999" in " ".join(failed.output.split())
    assert project.runs("news")[0].status == "failed"


def test_bad_source_config_names_file_and_line(project: SourceProject) -> None:
    project.write({"news": email_source(list_idd=3)})
    result = project.pull()
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "listrak-sync.yml:" in text
    assert "unknown field 'list_idd'" in text


def test_sources_from_a_config_file(project: SourceProject, tmp_path: Any) -> None:
    seed_email(project.emulator, 10)
    project.write({})
    other = tmp_path / "sources.yml"
    other.write_text(
        "sources:\n  news:\n    type: listrak_email\n    credential: email_api\n"
        f"    list_id: {LIST_ID}\n"
    )
    assert project.pull("--config", str(other)).exit_code == 0
    assert _by_state(project) == {"Subscribed": 9, "Unsubscribed": 1}


def test_a_running_pull_of_the_source_locks_it_out(project: SourceProject) -> None:
    seed_email(project.emulator, 10)
    project.write({"news": email_source()})
    with StateStore(Workspace.in_project(project.root).state_path) as store:
        store.acquire_lock("pull:news", "pull-elsewhere")  # held by this live process
        result = project.pull()
        assert result.exit_code == 5
        assert "in use by run pull-elsewhere" in " ".join(result.output.split())
        store.release_lock("pull:news", "pull-elsewhere")
    assert project.pull().exit_code == 0


def test_stage_keeps_the_later_read_when_dates_tie_to_the_second(tmp_path: Path) -> None:
    # Unsubscribed (read on the unsubscribed stream's page 2), then resubscribed in the same
    # second before the subscribed stream's page 1 was read: the newest date ties, and the
    # page numbers (per stream) point the wrong way; the resubscribe date tells.
    config = EmailSource(type="listrak_email", credential="email_api", list_id=LIST_ID)
    contacts = EmailContacts("news", config, "listrak_news", [], None)
    row = (
        "SELECT {LIST_ID} AS list_id, 'fresh@example.com' AS email_lower,"
        " 'fresh@example.com' AS email_address, 'k' AS email_key,"
        " '{state}' AS subscription_state, TIMESTAMP '2026-11-01 08:00:00' AS subscribe_date,"
        " CAST({resubscribed} AS TIMESTAMP) AS resubscribe_date, 'API' AS subscribe_method,"
        " TIMESTAMP '2026-11-02 09:30:00' AS unsubscribe_date, 'API' AS unsubscribe_method,"
        " CAST(NULL AS VARCHAR) AS external_contact_id, TIMESTAMP '2026-11-02 09:31:00'"
        " AS pulled_at, 'r' AS run_id, {page} AS {page_column}"
    )
    both = " UNION ALL ".join(
        row.format(
            LIST_ID=LIST_ID, state=state, resubscribed=resub, page=page, page_column=PAGE_COLUMN
        )
        for state, resub, page in [
            ("Subscribed", "'2026-11-02 09:30:00'", 1),
            ("Unsubscribed", "NULL", 2),
        ]
    )
    with connect(str(tmp_path / "warehouse.duckdb")) as warehouse:
        warehouse.execute(f'CREATE TABLE "{contacts.pass_stage(0)}" AS {both}')
        contacts.build_stage(warehouse)
        found = warehouse.query(f'SELECT subscribed, changed_at FROM "{contacts.stage}"')
    assert found.to_pylist() == [{"subscribed": True, "changed_at": datetime(2026, 11, 2, 9, 30)}]
