"""The client reads what real Listrak answered, as recorded (``tests/real_traffic.py``).

Each recorded answer is served by a small replay server on loopback, so the client meets the
exact status, headers and body; the emulator's side of the same facts is
``tests/emulator/test_real_traffic.py``. Behaviour that needs state (an import file refused for
its size, 429s under load) runs against the emulator in realistic mode.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from listrak_sync.listrak import (
    AuthError,
    ClientSettings,
    Credentials,
    ImportColumn,
    ImportTimeout,
    ListrakApiError,
    ListrakClient,
)
from listrak_sync.serving import BackgroundServer
from tests.conftest import EMAIL_CLIENT, Emulator
from tests.real_traffic import CONTACT, FACTS, LIST, LIST_ID, Recorded

from .conftest import FAST_RETRY, MakeClient, credentials

SECRET = "s3cret-never-shown"


@dataclass
class Answer:
    status: int
    body: Any = None
    text: str = ""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, recorded: Recorded) -> Answer:
        return cls(recorded.status, recorded.body, recorded.text, recorded.content_type)

    def response(self) -> Response:
        content = json.dumps(self.body) if self.body is not None else self.text
        return Response(content, self.status, self.headers, media_type=self.content_type)


class Replay(BackgroundServer):
    """Answers each ``METHOD /path`` with its queued answers in turn (the last one repeats)."""

    def __init__(self) -> None:
        self.answers: dict[str, list[Answer]] = {"POST /OAuth2/Token": [Answer.of(FACTS["token"])]}
        self.seen: list[str] = []

        async def answer(request: Request) -> Response:
            key = f"{request.method} {request.url.path}"
            self.seen.append(key)
            queue = self.answers.get(key)
            if not queue:
                return Response("<html>404</html>", 404, media_type="text/html")
            return (queue.pop(0) if len(queue) > 1 else queue[0]).response()

        app = Starlette(
            routes=[Route("/{path:path}", answer, methods=["GET", "POST", "PUT", "DELETE"])]
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        super().__init__(
            uvicorn.Server(config),
            host="127.0.0.1",
            port=0,
            thread_name="listrak-replay",
            failure="the replay server could not listen",
            stop_timeout=5,
        )

    def on(self, key: str, *answers: Answer) -> None:
        self.answers[key] = list(answers)


@pytest.fixture
def replay() -> Iterator[Replay]:
    with Replay() as server:
        yield server


@pytest.fixture
async def client(replay: Replay) -> AsyncIterator[ListrakClient]:
    made = ListrakClient(
        email=Credentials(client_id="shop-email", client_secret=SECRET),  # type: ignore[arg-type]
        data=Credentials(client_id="shop-data", client_secret=SECRET),  # type: ignore[arg-type]
        settings=ClientSettings.for_base_url(
            replay.base_url,
            retry=FAST_RETRY,
            import_poll_interval=0.01,
            import_poll_max_interval=0.02,
        ),
    )
    yield made
    await made.aclose()


def _path(recorded: Recorded) -> str:
    return f"{recorded.method} {recorded.path.format(list=LIST_ID)}"


@pytest.mark.parametrize("name", ["upsert existing contact", "upsert new contact"])
async def test_upsert_reads_200_or_201_and_the_address_as_resource_id(
    replay: Replay, client: ListrakClient, name: str
) -> None:
    recorded = FACTS[name]
    replay.on(_path(recorded), Answer.of(recorded))
    from listrak_sync.listrak import Contact

    got = await client.email.upsert_contact(
        LIST_ID, Contact(email_address=recorded.request["emailAddress"])
    )
    assert got == recorded.body["resourceId"]


async def test_upsert_reads_an_email_key_resource_id_too(
    replay: Replay, client: ListrakClient
) -> None:
    from listrak_sync.listrak import Contact

    recorded = FACTS["upsert new contact"]
    replay.on(_path(recorded), Answer(201, {"status": 201, "resourceId": CONTACT["emailKey"]}))
    got = await client.email.upsert_contact(LIST_ID, Contact(email_address="a@example.com"))
    assert got == CONTACT["emailKey"]


async def test_contact_with_nulls_and_fractional_seconds(
    replay: Replay, client: ListrakClient
) -> None:
    recorded = FACTS["contact"]
    replay.on(_path(recorded), Answer.of(recorded))
    contact = await client.email.get_contact(LIST_ID, "ada@example.com")
    assert contact.subscribe_date == datetime(2015, 8, 31, 16, 2, 41, 650000)
    assert contact.resubscribe_date is None
    assert contact.external_contact_id is None
    assert contact.segmentation_field_values == []
    assert contact.email_key == "E423056525030584442F94FD29"
    # Whole seconds, seven fraction digits (.NET ticks) and null field lists read alike.
    other = {**CONTACT, "subscribeDate": "2015-08-31T16:02:41.6500000"}
    replay.on(_path(recorded), Answer(200, {"status": 200, "data": other}))
    again = await client.email.get_contact(LIST_ID, "ada@example.com")
    assert again.subscribe_date == contact.subscribe_date
    nulls = {**CONTACT, "subscribeDate": "2015-08-31T16:02:41", "segmentationFieldValues": None}
    replay.on(_path(recorded), Answer(200, {"status": 200, "data": nulls}))
    third = await client.email.get_contact(LIST_ID, "ada@example.com")
    assert third.subscribe_date == datetime(2015, 8, 31, 16, 2, 41)
    assert third.segmentation_field_values == []


async def test_list_with_every_member(replay: Replay, client: ListrakClient) -> None:
    recorded = FACTS["list"]
    replay.on(_path(recorded), Answer.of(recorded))
    found = await client.email.get_list(LIST_ID)
    assert found.list_id == LIST["listId"]
    assert found.folder_id is None
    assert found.from_email == ""
    assert found.create_date == datetime(2018, 12, 20, 15, 31, 4, 827000)
    assert found.model_extra is not None
    assert found.model_extra["googleTrackingDomains"] == []


@pytest.mark.parametrize("cursor", ["null", "absent"])
async def test_last_page_with_null_or_absent_cursor(
    replay: Replay, client: ListrakClient, cursor: str
) -> None:
    recorded = FACTS["last page of contacts"]
    body = dict(recorded.body)
    if cursor == "absent":
        del body["nextPageCursor"]
    replay.on(_path(recorded), Answer(200, body))
    contacts = [c async for c in client.email.contacts(LIST_ID)]
    assert [c.email_address for c in contacts] == ["ada@example.com"]
    pages = [page async for page in client.email.contact_pages(LIST_ID)]
    assert len(pages) == 1
    assert replay.seen.count(_path(recorded)) == 2  # one request each: no page after the last


async def test_data_import_with_null_resource_id(replay: Replay, client: ListrakClient) -> None:
    recorded = FACTS["data import"]
    replay.on(_path(recorded), Answer.of(recorded))
    results = await client.data.import_customers(recorded.request)
    assert [(r.resource_id, r.records) for r in results] == [(None, 1)]


@pytest.mark.parametrize(
    "refusal",
    [
        Answer.of(FACTS["token, bad credentials"]),
        Answer(401, {"error": "invalid_client", "error_description": "Bad client."}),
        Answer(401, text="<html>Unauthorized</html>", content_type="text/html"),
        Answer(400, text="", content_type="text/plain"),
    ],
    ids=["recorded-400", "rfc-401", "401-html", "400-empty"],
)
async def test_token_refusal_with_any_body_names_the_credential(
    replay: Replay, client: ListrakClient, refusal: Answer
) -> None:
    replay.on("POST /OAuth2/Token", refusal)
    with pytest.raises(AuthError) as caught:
        await client.email.lists()
    text = str(caught.value)
    assert "shop-email" in text
    assert SECRET not in text
    assert caught.value.status == refusal.status
    assert replay.seen.count("POST /OAuth2/Token") == 1  # refused credentials are not retried


async def test_429_without_retry_after_or_code_is_retried(
    replay: Replay, client: ListrakClient
) -> None:
    recorded = FACTS["rate limited"]
    ok = Answer.of(FACTS["list"])
    replay.on(_path(recorded), Answer.of(recorded), Answer.of(recorded), ok)
    found = await client.email.get_list(LIST_ID)
    assert found.list_id == LIST_ID
    assert client.metrics.rate_limited == 2


def _import_answers(replay: Replay, statuses: list[str], summary: dict[str, Any]) -> None:
    base = f"/email/v1/List/{LIST_ID}/ListImport"
    replay.on(f"POST {base}", Answer(201, {"status": 201, "resourceId": "17"}))
    replay.on(
        f"GET {base}/17/Status",
        *(
            Answer(200, {"status": 200, "data": {"status": s, "startDate": None, "endDate": None}})
            for s in statuses
        ),
    )
    replay.on(f"GET {base}/17/Summary", Answer(200, {"status": 200, "data": summary}))


async def test_unknown_import_status_keeps_polling_and_warns_once(
    replay: Replay, client: ListrakClient, caplog: pytest.LogCaptureFixture
) -> None:
    summary = {"processedCount": 1, "subscribedCount": 1, "reactivatedCount": 0}
    _import_answers(replay, ["Validating", "Validating", "Validating", "Completed"], summary)
    with caplog.at_level(logging.WARNING, logger="listrak_sync.listrak"):
        results = await client.email.import_contacts(
            LIST_ID, [["ada@example.com"]], columns=[ImportColumn("email", "Email")]
        )
    warnings = [r for r in caplog.records if "unknown status" in r.getMessage()]
    assert len(warnings) == 1
    assert "Validating" in warnings[0].getMessage()
    assert results[0].status == "Completed"
    # An unknown summary member is kept raw, under its own name, in what the run records.
    assert results[0].summary is not None
    assert results[0].summary.model_dump(exclude_none=True)["reactivatedCount"] == 0
    assert results[0].summary.processed_count == 1


async def test_unknown_import_status_gives_up_at_the_timeout(replay: Replay) -> None:
    _import_answers(replay, ["Validating"], {})
    async with ListrakClient(
        email=Credentials(client_id="shop-email", client_secret=SECRET),  # type: ignore[arg-type]
        settings=ClientSettings.for_base_url(
            replay.base_url,
            retry=FAST_RETRY,
            import_poll_interval=0.01,
            import_poll_max_interval=0.02,
            import_timeout=0.2,
        ),
    ) as client:
        with pytest.raises(ImportTimeout, match="Validating"):
            await client.email.import_contacts(
                LIST_ID, [["ada@example.com"]], columns=[ImportColumn("email", "Email")]
            )


# --- against the emulator in realistic mode ------------------------------------------------


@pytest.fixture
def realistic(emulator: Emulator) -> Emulator:
    emulator.admin.settings(realism="realistic")
    emulator.admin.seed({"email": {"lists": [{"listId": LIST_ID, "listName": "Newsletter"}]}})
    return emulator


async def test_oversized_import_file_is_split_and_sent_again(
    realistic: Emulator, make_client: MakeClient
) -> None:
    realistic.admin.settings(max_request_bytes=3_000)
    client = make_client(email=credentials(EMAIL_CLIENT))
    rows = [[f"user{i}@example.com"] for i in range(150)]  # about 3.9 kB as one file
    results = await client.email.import_contacts(
        LIST_ID, rows, columns=[ImportColumn("email", "Email")], file_name="big"
    )
    assert sum(r.rows for r in results) == 150
    assert len(results) >= 2
    assert all(r.status == "Completed" for r in results)
    assert [r.file_name.rsplit("-", 1)[1] for r in results][:2] == ["001a.csv", "001b.csv"]
    state = realistic.admin.state(full=True)["email"]["lists"][0]
    assert len(state["contactList"]) == 150


async def test_import_refused_even_when_small_is_a_clear_error(
    realistic: Emulator, make_client: MakeClient
) -> None:
    realistic.admin.settings(max_request_bytes=100)
    client = make_client(email=credentials(EMAIL_CLIENT))
    with pytest.raises(ListrakApiError, match="even after halving it") as caught:
        await client.email.import_contacts(
            LIST_ID,
            [[f"user{i}@example.com"] for i in range(8)],
            columns=[ImportColumn("email", "Email")],
        )
    assert "max_import_bytes" in str(caught.value)


async def test_pacing_works_blind_against_realistic_429s(
    realistic: Emulator, make_client: MakeClient
) -> None:
    realistic.admin.add_fault(path="^/email/", rate_per_second=20, burst=2)
    client = make_client(email=credentials(EMAIL_CLIENT))
    for _ in range(8):
        assert (await client.email.get_list(LIST_ID)).list_id == LIST_ID
    assert client.metrics.rate_limited >= 1  # 429s came, without Retry-After, and were absorbed
    assert client.session("email").pacer.decreases >= 1  # and the pacer slowed down anyway
