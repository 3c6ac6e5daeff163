"""An SMS project against the real emulator: a DuckDB warehouse, a project file, seeded lists.

Sender code 101 (US) has the Marketing list 5001, a double opt-in list 5002 and an inactive list
5003. Profile fields: First Name (system), Email (system), Loyalty Tier (Text, 20), Lifetime
Value (Number), Prefers Texts (Checkbox), Member Since (Date) and a disabled Legacy field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from listrak_sync.project.loader import Project, load_project
from listrak_sync.sync.engine import plan_campaign, sync_campaign
from listrak_sync.sync.options import SyncOptions
from listrak_sync.sync.report import UnitOutcome
from listrak_sync.sync.workspace import Workspace
from tests.conftest import SMS_CLIENT, Emulator

SENDER = 101
LIST = 5001
DOUBLE_OPT_IN_LIST = 5002
INACTIVE_LIST = 5003
SECRET_ENV = "LISTRAK_SYNC_TEST_SMS_SECRET"

FIELDS = [
    {
        "segmentationFieldId": 7001,
        "segmentationFieldName": "First Name",
        "dataType": "Text",
        "maxLength": 50,
        "systemField": "firstName",
    },
    {
        "segmentationFieldId": 7002,
        "segmentationFieldName": "Email",
        "dataType": "Text",
        "maxLength": 100,
        "systemField": "emailAddress",
    },
    {
        "segmentationFieldId": 7003,
        "segmentationFieldName": "Loyalty Tier",
        "dataType": "Text",
        "maxLength": 20,
    },
    {"segmentationFieldId": 7004, "segmentationFieldName": "Lifetime Value", "dataType": "Number"},
    {"segmentationFieldId": 7005, "segmentationFieldName": "Prefers Texts", "dataType": "Checkbox"},
    {"segmentationFieldId": 7006, "segmentationFieldName": "Member Since", "dataType": "Date"},
    {
        "segmentationFieldId": 7007,
        "segmentationFieldName": "Legacy",
        "dataType": "Text",
        "statusFlag": "Disabled",
    },
]


def seed_sms(emulator: Emulator, contacts: Sequence[dict[str, Any]] = (), **options: Any) -> None:
    """Seed sender code 101 with its lists, the fields and ``contacts``."""
    emulator.admin.seed(
        {
            "sms": {
                "fields": FIELDS,
                "senderCodes": [
                    {
                        "shortCodeId": SENDER,
                        "code": "55501",
                        "country": "US",
                        "disabled": options.get("disabled", False),
                        "lists": [
                            {"phoneListId": LIST, "phoneListName": "Marketing"},
                            {
                                "phoneListId": DOUBLE_OPT_IN_LIST,
                                "phoneListName": "VIP",
                                "requireDoubleOptIn": True,
                            },
                            {
                                "phoneListId": INACTIVE_LIST,
                                "phoneListName": "Old",
                                "status": "Inactive",
                            },
                        ],
                        "contacts": list(contacts),
                    }
                ],
            }
        }
    )


@dataclass
class Person:
    customer_id: int
    phone: str | None
    first_name: str | None = None
    loyalty_tier: str | None = None
    lifetime_value: Any = None
    prefers_texts: Any = None
    member_since: Any = None
    in_audience: bool = True
    consent: str | None = "opted_in"


@dataclass
class SmsProject:
    """A project folder whose campaign ``texts`` sends segment ``audience`` to ``sms``."""

    root: Path
    emulator: Emulator
    destination: dict[str, Any] = field(default_factory=dict)
    attributes: list[Any] = field(
        default_factory=lambda: [
            {"column": "first_name", "field": "First Name"},
            {"column": "loyalty_tier", "field": "loyalty_tier"},
        ]
    )
    campaigns: dict[str, Any] | None = None

    def seed(self, contacts: Sequence[dict[str, Any]] = (), **options: Any) -> None:
        """Seed the emulator's SMS side (once per test) and forget the seeding requests."""
        seed_sms(self.emulator, contacts, **options)
        self.emulator.admin.clear_requests()

    def write_config(self) -> None:
        destination = {
            "type": "listrak_sms",
            "credential": "sms",
            "sender_code_id": SENDER,
            "list_id": LIST,
            "attributes": self.attributes,
            **self.destination,
        }
        config = {
            "version": 1,
            "name": "sms-test",
            "warehouse": {
                "connection": "warehouse.duckdb",
                "sms_opt_status": {"table": "sms_opt_status", "updated_column": "updated_at"},
            },
            "listrak": {"api_url": self.emulator.base_url, "auth_url": self.emulator.base_url},
            "credentials": {
                "sms": {
                    "type": "listrak",
                    "client_id": SMS_CLIENT[0],
                    "client_secret": {"env": SECRET_ENV},
                }
            },
            "destinations": {"sms": destination},
            "segments": {
                "audience": {"sql": "SELECT customer_id FROM customer_360 WHERE in_audience"}
            },
            "campaigns": self.campaigns
            or {
                "texts": {
                    "segment": "audience",
                    "groups": [{"name": "all", "percent": 100, "destinations": ["sms"]}],
                }
            },
        }
        (self.root / "listrak-sync.yml").write_text(yaml.safe_dump(config, sort_keys=False))

    def people(self, people: Sequence[Person]) -> None:
        """Replace the warehouse's customers, profiles and SMS opt status."""
        with duckdb.connect(str(self.root / "warehouse.duckdb")) as con:
            con.execute(
                "CREATE OR REPLACE TABLE customer_360 (customer_id INTEGER, in_audience BOOLEAN)"
            )
            con.execute(
                "CREATE OR REPLACE TABLE merged_customers (customer_id INTEGER, phone VARCHAR, "
                "first_name VARCHAR, loyalty_tier VARCHAR, lifetime_value VARCHAR, "
                "prefers_texts VARCHAR, member_since VARCHAR, updated_at TIMESTAMP)"
            )
            con.execute(
                "CREATE OR REPLACE TABLE sms_opt_status "
                "(phone VARCHAR, status VARCHAR, updated_at TIMESTAMP)"
            )
            for p in people:
                con.execute(
                    "INSERT INTO customer_360 VALUES (?, ?)", [p.customer_id, p.in_audience]
                )
                con.execute(
                    "INSERT INTO merged_customers VALUES (?, ?, ?, ?, ?, ?, ?, now())",
                    [
                        p.customer_id,
                        p.phone,
                        p.first_name,
                        p.loyalty_tier,
                        None if p.lifetime_value is None else str(p.lifetime_value),
                        None if p.prefers_texts is None else str(p.prefers_texts),
                        None if p.member_since is None else str(p.member_since),
                    ],
                )
                if p.consent is not None and p.phone is not None:
                    con.execute(
                        "INSERT INTO sms_opt_status VALUES (?, ?, now())", [p.phone, p.consent]
                    )

    def project(self) -> Project:
        return load_project(self.root)

    def options(self, **values: Any) -> SyncOptions:
        client = {
            "import_poll_interval": 0.05,
            "import_poll_max_interval": 0.2,
            **values.pop("client", {}),
        }
        return SyncOptions(client=client, **values)

    def sync(self, campaign: str = "texts", **values: Any) -> UnitOutcome:
        outcomes = sync_campaign(self.project(), campaign, self.options(**values))
        assert len(outcomes) == 1
        return outcomes[0]

    def plan(self, campaign: str = "texts", **values: Any) -> UnitOutcome:
        outcomes = plan_campaign(self.project(), campaign, self.options(**values))
        assert len(outcomes) == 1
        return outcomes[0]

    def store(self) -> Any:
        return Workspace.in_project(self.root).store()

    # --- what Listrak holds ----------------------------------------------------------------

    def contacts(self) -> dict[str, dict[str, Any]]:
        """Every contact on the emulator, by ``+E.164``."""
        state = self.emulator.admin.state(full=True)
        found: dict[str, dict[str, Any]] = {}
        for contact in _contacts(state):
            found["+" + str(contact["phoneNumber"]).lstrip("+")] = contact
        return found

    def members(self, list_id: int = LIST) -> set[str]:
        with self.emulator.http(SMS_CLIENT) as http:
            phones: set[str] = set()
            cursor = "Start"
            while cursor:
                answer = http.get(
                    f"/sms/v1/ShortCode/{SENDER}/PhoneList/{list_id}/Contact",
                    params={"cursor": cursor, "count": 5000},
                ).json()
                phones.update("+" + c["phoneNumber"] for c in answer.get("data") or [])
                cursor = answer.get("nextPageCursor") if answer.get("data") else None
            return phones

    def requests(self) -> dict[str, int]:
        return {k: v for k, v in self.emulator.admin.requests().items() if v}


WRITES = (
    "Contact_PostContactListResource",
    "Contact_PutContactResource",
    "Contact_PostImportFileResource",
    "ContactListSubscription_PostContactListSubscription",
    "ContactListSubscription_DeleteUnsubscribeContactListSubscription",
)


def writes(requests: dict[str, int]) -> dict[str, int]:
    """The write requests among the emulator's request counts."""
    return {k: v for k, v in requests.items() if k in WRITES}


def outcomes(project: SmsProject, run_id: str) -> dict[str, tuple[str, str | None]]:
    """A run's row outcomes: key -> (outcome, reason)."""
    with project.store() as store:
        return {o.key: (o.outcome, o.reason) for o in store.outcomes(run_id)}


def _contacts(state: dict[str, Any]) -> list[dict[str, Any]]:
    sms = state.get("sms", state)
    return [c for c in sms.get("contacts", []) if int(c.get("senderCodeId", 0)) == SENDER]


@pytest.fixture
def sms_project(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SmsProject:
    monkeypatch.setenv(SECRET_ENV, SMS_CLIENT[1])
    project = SmsProject(tmp_path, emulator)
    project.write_config()
    project.people([])
    return project
