"""Every Python example in the docs runs, as written, against the emulator on loopback.

Each ```python block of ``docs/**/*.md`` is run in its own interpreter, in an empty folder. A
page whose examples need something first (seeded lists, a warehouse file, credentials in the
environment) has a preparation below; the example's text is only ever pointed at the emulator
(its URL and client credentials), never rewritten otherwise. A dependency upgrade that breaks an
example turns this red.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import EMAIL_CLIENT, SMS_CLIENT, Emulator
from tests.sync.helpers import SECRET_ENV, SyncProject, people, seed_list

DOCS = Path(__file__).resolve().parents[1] / "docs"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


@dataclass(frozen=True)
class Example:
    page: str  # relative to docs/
    line: int
    code: str


def _examples() -> list[Example]:
    found = []
    for path in sorted(DOCS.rglob("*.md")):
        text = path.read_text("utf-8")
        for match in _BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(Example(path.relative_to(DOCS).as_posix(), line, match.group(1)))
    return found


@dataclass
class Run:
    code: str
    env: dict[str, str] = field(default_factory=dict)
    check: Callable[[Path], None] | None = None


def _client(example: Example, emulator: Emulator, folder: Path) -> Run:
    emulator.admin.seed(
        {
            "email": {
                "lists": [
                    {
                        "listId": 1001,
                        "listName": "Newsletter",
                        "segmentationFieldGroups": [
                            {
                                "segmentationFieldGroupName": "Flags",
                                "segmentationFields": [
                                    {
                                        "segmentationFieldId": 42,
                                        "segmentationFieldName": "vip",
                                        "dataType": "CheckBox",
                                        "maxLength": 3,
                                    }
                                ],
                            }
                        ],
                        "contacts": [{"emailAddress": "ann@example.com"}],
                    }
                ]
            },
            "sms": {
                "senderCodes": [
                    {
                        "shortCodeId": 501,
                        "code": "55501",
                        "lists": [{"phoneListId": 601, "phoneListName": "Main"}],
                        "contacts": [{"phoneNumber": "+12155550123", "subscriptions": []}],
                    }
                ]
            },
        }
    )
    code = re.sub(r"http://127\.0\.0\.1:\d+", emulator.base_url, example.code)
    for client_id, secret in (EMAIL_CLIENT, SMS_CLIENT):  # email's pair first, as written
        code = code.replace('client_id="…"', f'client_id="{client_id}"', 1)
        code = code.replace('client_secret="…"', f'client_secret="{secret}"', 1)
    return Run(code)


def _warehouse(example: Example, emulator: Emulator, folder: Path) -> Run:
    with duckdb.connect(str(folder / "warehouse.duckdb")) as db:
        db.execute(
            "CREATE TABLE customer_360 AS SELECT i AS customer_id,"
            " 'person' || i || '@example.com' AS email FROM range(100) t(i)"
        )
    return Run(example.code)


def _dlt(example: Example, emulator: Emulator, folder: Path) -> Run:
    fields = [
        {"segmentationFieldId": 11, "segmentationFieldName": "FirstName"},
        {"segmentationFieldId": 12, "segmentationFieldName": "City"},
        {"segmentationFieldId": 13, "segmentationFieldName": "Loyalty Id"},
    ]
    emulator.admin.seed(
        {
            "email": {
                "lists": [
                    {
                        "listId": 1001,
                        "listName": "Newsletter",
                        "segmentationFieldGroups": [
                            {"segmentationFieldGroupName": "Profile", "segmentationFields": fields}
                        ],
                        "contacts": [
                            {
                                "emailAddress": f"p{i}@example.com",
                                "subscribeDate": "2026-01-02T08:00:00",
                                "segmentationFieldValues": {"FirstName": f"P{i}", "Loyalty Id": i},
                            }
                            for i in range(25)
                        ],
                        "messages": [
                            {
                                "messageId": 9001,
                                "subject": "Hello",
                                "sendDate": "2026-02-01T10:00:00",
                                "activity": [{"emailAddress": "p1@example.com", "open": True}],
                            }
                        ],
                    }
                ]
            },
            "sms": {
                "senderCodes": [
                    {
                        "shortCodeId": 301,
                        "code": "30101",
                        "lists": [{"phoneListId": 2001, "phoneListName": "Main"}],
                        "contacts": [
                            {
                                "phoneNumber": "+12155550100",
                                "subscriptions": [{"phoneListId": 2001}],
                            }
                        ],
                    }
                ]
            },
        }
    )
    env = {
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "DLT_DATA_DIR": str(folder / "dlt-data"),
        "SOURCES__LISTRAK__BASE_URL": emulator.base_url,
        "SOURCES__LISTRAK__EMAIL_CREDENTIALS__CLIENT_ID": EMAIL_CLIENT[0],
        "SOURCES__LISTRAK__EMAIL_CREDENTIALS__CLIENT_SECRET": EMAIL_CLIENT[1],
        "SOURCES__LISTRAK__SMS_CREDENTIALS__CLIENT_ID": SMS_CLIENT[0],
        "SOURCES__LISTRAK__SMS_CREDENTIALS__CLIENT_SECRET": SMS_CLIENT[1],
    }

    def check(folder: Path) -> None:
        (database,) = folder.glob("*.duckdb")
        with duckdb.connect(str(database), read_only=True) as db:
            tables = dict(
                db.execute(
                    "SELECT table_name, estimated_size FROM duckdb_tables()"
                    " WHERE table_name IN ('email_contacts', 'messages', 'sms_contacts')"
                ).fetchall()
            )
            loyalty = db.execute(
                "SELECT loyalty_id FROM listrak.email_contacts WHERE email_lower = 'p7@example.com'"
            ).fetchall()
        assert set(tables) == {"email_contacts", "messages", "sms_contacts"}
        assert loyalty == [("7",)]

    return Run(example.code, env, check)


def _library(example: Example, emulator: Emulator, folder: Path) -> Run:
    """``my-project``: a campaign ``spring_sale`` over ten people, its secret in the environment."""
    made = SyncProject(folder / "my-project", emulator, campaign="spring_sale")
    made.root.mkdir()
    made.write_config()
    made.set_people(people(10))
    seed_list(emulator)
    code = re.sub(r"http://127\.0\.0\.1:\d+", emulator.base_url, example.code)
    code = code.replace('client_id="…"', f'client_id="{EMAIL_CLIENT[0]}"', 1)
    code = code.replace('client_secret="…"', f'client_secret="{EMAIL_CLIENT[1]}"', 1)
    return Run(code, {SECRET_ENV: EMAIL_CLIENT[1]})


Prepare = Callable[[Example, Emulator, Path], Run]
PREPARE: dict[str, Prepare] = {
    "reference/client.md": _client,
    "guides/warehouse.md": _warehouse,
    "guides/pull.md": _dlt,
    "index.md": _library,
    "reference/python-api.md": _library,
}
EXAMPLES = _examples()


def test_the_docs_have_python_examples() -> None:
    assert {e.page for e in EXAMPLES} >= set(PREPARE)


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{e.page}:{e.line}" for e in EXAMPLES])
def test_python_example_runs(
    example: Example, emulator: Emulator, tmp_path: Path, request: Any
) -> None:
    prepare = PREPARE.get(example.page)
    run = prepare(example, emulator, tmp_path) if prepare else Run(example.code)
    env = {**os.environ, **run.env}
    done = subprocess.run(
        [sys.executable, "-c", run.code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, f"{example.page}:{example.line}\n{done.stdout}\n{done.stderr}"
    # A passing example prints no errors either (such as dlt's aclose() complaints).
    assert "Error" not in done.stderr, done.stderr
    if run.check is not None:
        run.check(tmp_path)
