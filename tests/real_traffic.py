"""What real Listrak answered, as recorded: one fixture per fact, written by us from the shapes.

The recordings are the VCR cassettes of ``workarea-commerce/workarea-listrak``
(``test/vcr_cassettes/listrak/**``, live API, Dec 2018 - Jan 2019); see
``docs/reference/emulator.md`` for each fact and its confidence. These are not copies of those
files: status, the headers that matter and the body members, with our own example values.

Each fixture is used twice: ``tests/listrak/test_real_traffic.py`` serves it from a loopback
server and checks the client reads it; ``tests/emulator/test_real_traffic.py`` sends the same
request to the emulator and checks it answers in the same shape (:func:`same_shape`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FACTS", "Recorded", "same_shape"]

API_JSON = "application/json; charset=utf-8"  # recorded on every API answer (fact 13)
TOKEN_JSON = "application/json;charset=UTF-8"  # recorded on the token endpoint (fact 13)
LIST_ID = 349956  # the recordings' ids are global and large (fact 10)
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?")  # no offset (fact 5)
EMAIL_KEY = re.compile(r"[0-9A-F]{26}")  # fact 11


@dataclass(frozen=True)
class Recorded:
    """One recorded exchange: the request as sent, the answer as received."""

    fact: str  # the row of docs/reference/emulator.md it rests on
    method: str
    path: str  # {list} stands for the list's id
    status: int
    body: Any  # the answer's JSON body; None when it is not JSON
    request: Any = None
    content_type: str = API_JSON
    text: str = ""  # a non-JSON answer's body
    headers: dict[str, str] = field(default_factory=dict)
    absent_headers: tuple[str, ...] = ()


CONTACT = {
    "emailAddress": "ada@example.com",
    "emailKey": "E423056525030584442F94FD29",
    "subscriptionState": "Subscribed",
    "subscribeDate": "2015-08-31T16:02:41.65",
    "resubscribeDate": None,
    "subscribeMethod": "API",
    "unsubscribeDate": None,
    "unsubscribeMethod": None,
    "externalContactID": None,
    "segmentationFieldValues": [],
}

LIST = {
    "listId": LIST_ID,
    "listName": "Newsletter",
    "folderId": None,
    "ipPoolId": None,
    "bounceDomainAlias": "",
    "bounceHandling": "Standard",
    "bounceUnsubscribeCount": 3,
    "createDate": "2018-12-20T15:31:04.827",
    "enableBrowserLink": False,
    "enableDoubleOptIn": False,
    "enableDynamicContent": False,
    "enableGoogleAnalytics": False,
    "enableInternationalization": False,
    "enableListHygiene": False,
    "enableListRemovalHeader": False,
    "enableListRemovalLink": False,
    "enableListrakAnalytics": False,
    "enableSpamScorePersonalization": False,
    "enableToNamePersonalization": False,
    "enableUniversalEmailKeySetting": False,
    "fromEmail": "",
    "fromName": "",
    "googleTrackingDomains": [],
    "linkDomainAlias": "",
    "mediaDomainAlias": "",
}

FACTS: dict[str, Recorded] = {
    "upsert existing contact": Recorded(
        fact="1, 2, 3",
        method="POST",
        path="/email/v1/List/{list}/Contact",
        request={
            "emailAddress": "ada@example.com",
            "subscriptionState": "Subscribed",
            "segmentationFieldValues": None,
        },
        status=200,
        body={"status": 200, "resourceId": "ada@example.com"},
    ),
    "upsert new contact": Recorded(
        fact="1, 2, 3",
        method="POST",
        path="/email/v1/List/{list}/Contact",
        request={"emailAddress": "new.shopper@example.com", "subscriptionState": "Subscribed"},
        status=201,
        body={"status": 201, "resourceId": "new.shopper@example.com"},
    ),
    "token, bad credentials": Recorded(
        fact="4",
        method="POST",
        path="/OAuth2/Token",
        status=400,
        body={"error": "Invalid Credentials"},
        content_type=TOKEN_JSON,
    ),
    "token": Recorded(
        fact="12, 13",
        method="POST",
        path="/OAuth2/Token",
        status=200,
        body={"access_token": "x" * 40, "token_type": "bearer", "expires_in": 3599},
        content_type=TOKEN_JSON,
    ),
    "contact": Recorded(
        fact="5, 6, 11",
        method="GET",
        path="/email/v1/List/{list}/Contact/ada@example.com",
        status=200,
        body={"status": 200, "data": CONTACT},
    ),
    "list": Recorded(
        fact="6, 10",
        method="GET",
        path="/email/v1/List/{list}",
        status=200,
        body={"status": 200, "data": LIST},
    ),
    "last page of contacts": Recorded(
        fact="5, 6, 7",
        method="GET",
        path="/email/v1/List/{list}/Contact",
        status=200,
        body={"status": 200, "nextPageCursor": None, "data": [CONTACT]},
    ),
    "data import": Recorded(
        fact="8",
        method="POST",
        path="/data/v1/Customer",
        request=[{"email": "ada@example.com", "customerNumber": "C1", "firstName": "Ada"}],
        status=201,
        body={"status": 201, "resourceId": None},
    ),
    "rate limited": Recorded(
        fact="9",
        method="GET",
        path="/email/v1/List/{list}",
        status=429,
        body=None,
        content_type="text/plain",
        text="Too Many Requests",
        absent_headers=("retry-after",),
    ),
    "request too large": Recorded(
        fact="14",
        method="POST",
        path="/email/v1/List/{list}/ListImport",
        status=404,
        body=None,
        content_type="text/html",
        text="<html><body><h2>404 - File or directory not found.</h2></body></html>",
    ),
}


def same_shape(recorded: Any, produced: Any, *, realistic: bool, where: str = "") -> None:
    """Assert ``produced`` has the recorded shape: the same members with values of the same
    kind; timestamps and email keys in the recorded style. Strict mode leaves empty members out,
    so there a recorded null, ``""``, ``[]`` or ``false`` may be absent; realistic mode must
    send them."""
    here = where or "body"
    if isinstance(recorded, dict):
        assert isinstance(produced, dict), f"{here}: {produced!r} is not an object"
        for key, value in recorded.items():
            if key not in produced:
                # Strict mode leaves empty members out; realistic sends them all.
                empty = value is None or value in ("", [], False)
                assert empty, f"{here}.{key} is missing"
                assert not realistic, f"{here}.{key} is missing in realistic mode"
                continue
            same_shape(value, produced[key], realistic=realistic, where=f"{here}.{key}")
    elif isinstance(recorded, list):
        assert isinstance(produced, list), f"{here}: {produced!r} is not a list"
        if recorded and produced:
            same_shape(recorded[0], produced[0], realistic=realistic, where=f"{here}[0]")
    elif recorded is None:
        assert produced is None or not realistic, f"{here}: {produced!r} where null was recorded"
    elif isinstance(recorded, str):
        assert isinstance(produced, str), f"{here}: {produced!r} is not a string"
        if TIMESTAMP.fullmatch(recorded):
            assert TIMESTAMP.fullmatch(produced), f"{here}: {produced!r} is not Listrak's style"
            if not realistic:
                assert "." not in produced, f"{here}: {produced!r} has a fraction in strict mode"
        if EMAIL_KEY.fullmatch(recorded):
            assert EMAIL_KEY.fullmatch(produced), f"{here}: {produced!r} is not an emailKey"
    else:
        assert type(produced) is type(recorded), f"{here}: {produced!r} is not {recorded!r}'s type"
