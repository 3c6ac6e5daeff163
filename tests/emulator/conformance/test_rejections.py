"""Requests the real API would refuse are refused the same way, with the spec's error codes.

Schemathesis breaks each implemented operation's declared inputs (wrong types, values outside
an enum or range, missing required fields) and checks the emulator answers a documented 4xx with
a spec-valid error body and no 5xx. The explicit tests below pin down the codes for each kind of
refusal, which a generated case cannot name.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx2
import pytest
from schemathesis import Case, GenerationMode

from listrak_sync.emulator.spec import load_spec, spec_operations

from .harness import (
    APIS,
    DEEP_EXAMPLES,
    DEEP_RUN,
    NEGATIVE_CHECKS,
    Sandbox,
    api_of,
    implemented,
    parametrize,
)

QUICK = parametrize(GenerationMode.NEGATIVE)


def _call(case: Case[Any], sandbox: Sandbox) -> None:
    api = api_of(case)
    case.call_and_validate(
        base_url=sandbox.api_url(api), headers=sandbox.headers(api), checks=NEGATIVE_CHECKS
    )


@QUICK
def test_invalid_requests_are_refused(case: Case[Any], sandbox: Sandbox) -> None:
    _call(case, sandbox)


if DEEP_RUN[0]:  # defined only when -m can select slow tests: see harness.parametrize

    @pytest.mark.slow
    @parametrize(GenerationMode.NEGATIVE, DEEP_EXAMPLES)
    def test_invalid_requests_are_refused_deep(case: Case[Any], sandbox: Sandbox) -> None:
        _call(case, sandbox)


# -- the codes, pinned --------------------------------------------------------------------------

BODY_OPERATIONS = [
    (api, op_id)
    for api in APIS
    for op_id in implemented(api)
    if spec_operations(api)[op_id].body_schema is not None
]


def _path(sandbox: Sandbox, api: str, operation_id: str) -> str:
    """The operation's path with seeded ids, so only the body can be wrong."""
    op = spec_operations(api)[operation_id]
    path = op.path
    for param in op.parameters:
        if param.get("in") == "path":
            name = str(param["name"])
            value = sandbox.known[api].get(name, ["1"])[0]
            path = path.replace("{" + name + "}", quote(str(value), safe=""))
    return path


def _refused(response: httpx2.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()
    assert error == {"status": status, "error": code, "message": error["message"]}
    message: str = error["message"]
    return message


def _requires_something(api: str, operation_id: str) -> bool:
    """Whether ``{}`` breaks the body schema (an array body, or required writable members)."""
    spec = load_spec(api)
    schema = spec_operations(api)[operation_id].body_schema or {}
    if "$ref" in schema:
        schema = spec["definitions"][schema["$ref"].rsplit("/", 1)[-1]]
    if schema.get("type") == "array":
        return True
    props = schema.get("properties", {})
    return any(not props.get(name, {}).get("readOnly") for name in schema.get("required", []))


@pytest.mark.parametrize(("api", "operation_id"), BODY_OPERATIONS)
def test_bodies_must_be_json(api: str, operation_id: str, sandbox: Sandbox) -> None:
    method = spec_operations(api)[operation_id].method
    path = _path(sandbox, api, operation_id)
    with sandbox.http(api) as http:
        for content_type in ("application/x-www-form-urlencoded", "text/plain", None):
            headers = {"Content-Type": content_type} if content_type else {}
            answer = http.request(method, path, content=b"a=1", headers=headers)
            _refused(answer, 415, "ERROR_UNSUPPORTED_CONTENT_TYPE")
        for broken in (b"{not json", b"", b'{"a": 1,}', b"\xff\xfe"):
            answer = http.request(
                method, path, content=broken, headers={"Content-Type": "application/json"}
            )
            _refused(answer, 400, "ERROR_MALFORMED_REQUEST_BODY")
        wrong_type = http.request(method, path, json="a string")
        _refused(wrong_type, 400, "ERROR_INVALID_PARAMETER")
        if _requires_something(api, operation_id):
            empty = http.request(method, path, json={})
            _refused(empty, 400, "ERROR_INVALID_PARAMETER")


def test_invalid_body_members_are_named(sandbox: Sandbox) -> None:
    valid = {"listName": "Spring", "bounceHandling": "Standard", "bounceUnsubscribeCount": 3}
    with sandbox.http("email") as http:
        for change, name in (
            ({"listName": None}, "listName"),
            ({"bounceUnsubscribeCount": "three"}, "bounceUnsubscribeCount"),
            ({"bounceHandling": "Sometimes"}, "bounceHandling"),
            ({"enableDoubleOptIn": "yes"}, "enableDoubleOptIn"),
        ):
            message = _refused(
                http.post("/email/v1/List", json={**valid, **change}),
                400,
                "ERROR_INVALID_PARAMETER",
            )
            assert name in message
        missing = http.post("/email/v1/List", json={"listName": "Spring"})
        assert "bounceHandling" in _refused(missing, 400, "ERROR_INVALID_PARAMETER")
        allowed = http.post("/email/v1/List", json={**valid, "bounceHandling": "aggressive"})
        assert allowed.status_code == 201  # prose enums bind case-insensitively


_CONTACTS = ("email", "Contact_GetContactCollection", "/email/v1/List/1001/Contact")
_PHONE_LISTS = ("sms", "PhoneList_GetListCollection", "/sms/v1/ShortCode/301/PhoneList")
_LIST = ("email", "List_GetListResourceById")
PARAMETER_CASES = [
    # (api, operationId, path, query, the parameter the error must name)
    (*_LIST, "/email/v1/List/abc", {}, "listId"),
    (*_LIST, "/email/v1/List/2147483648", {}, "listId"),
    (*_LIST, "/email/v1/List/1.5", {}, "listId"),
    (*_CONTACTS, {"count": "0"}, "count"),
    (*_CONTACTS, {"count": "5001"}, "count"),
    (*_CONTACTS, {"count": "ten"}, "count"),
    (*_CONTACTS, {"subscriptionState": "Maybe"}, "subscriptionState"),
    (*_CONTACTS, {"useOriginalSubscribeDate": "1"}, "useOriginalSubscribeDate"),
    (
        "email",
        "ListImport_GetListImportCollection",
        "/email/v1/List/1001/ListImport",
        {"count": "-5"},
        "count",
    ),
    (*_PHONE_LISTS, {"status": "deleted"}, "status"),
    (*_PHONE_LISTS, {"count": "99999"}, "count"),
    (
        "sms",
        "Contact_GetContactCollection",
        "/sms/v1/ShortCode/301/PhoneList/401/Contact",
        {"optedOut": "yes"},
        "optedOut",
    ),
    ("sms", "PhoneList_GetListCollection", "/sms/v1/ShortCode/x/PhoneList", {}, "senderCodeId"),
]


@pytest.mark.parametrize(("api", "operation_id", "path", "query", "name"), PARAMETER_CASES)
def test_invalid_parameters_are_named(
    api: str, operation_id: str, path: str, query: dict[str, str], name: str, sandbox: Sandbox
) -> None:
    if operation_id not in implemented(api):
        pytest.skip(f"{operation_id} is not implemented yet")
    with sandbox.http(api) as http:
        message = _refused(http.get(path, params=query), 400, "ERROR_INVALID_PARAMETER")
    assert name in message


def test_query_parameters_bind_like_aspnet(sandbox: Sandbox) -> None:
    if "Contact_GetContactCollection" not in implemented("email"):
        pytest.skip("contacts are not implemented yet")
    with sandbox.http("email") as http:
        mixed_case = http.get(
            "/email/v1/List/1001/Contact", params={"COUNT": "1", "subscriptionstate": "subscribed"}
        )
        assert mixed_case.status_code == 200, mixed_case.text
        assert len(mixed_case.json()["data"]) == 1
        ignored = http.get("/email/v1/List/1001/Contact", params={"notAParameter": "x"})
        assert ignored.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/email/v1/List/%3Cscript%3E",
        "/email/v1/List/<b>",
        "/email/v1/List/1001/Contact/a&b@example.com",
        "/email/v1/List/1001/Contact/x%253Cy",
        "/email/v1/List/1001:1",
        "/email/v1/No<Such>Route",
    ],
)
def test_unsafe_characters_in_the_route_are_refused(path: str, sandbox: Sandbox) -> None:
    with sandbox.http("email") as http:
        response = http.send(http.build_request("GET", httpx2.URL(sandbox.base_url + path)))
    _refused(response, 400, "ERROR_UNSAFE_ROUTE")


def test_unsupported_method_names_the_allowed_ones(sandbox: Sandbox) -> None:
    with sandbox.http("email") as http:
        response = http.patch("/email/v1/List/1001")
    _refused(response, 405, "ERROR_UNSUPPORTED_METHOD")
    assert set(response.headers["allow"].split(", ")) >= {"GET", "PUT", "DELETE"}
