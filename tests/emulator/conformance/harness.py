"""Schemathesis against the running emulator: the official specs, a seeded sandbox, tokens.

The specs are loaded as shipped plus the corrections recorded real traffic makes to them
(``listrak_sync.emulator.recorded``; a deep copy, since schemathesis writes inferred links into
the document it is given). Their ``securityDefinitions`` are off Swagger 2.0 (``flow:
Application``, operations naming an undefined ``OAuth 2`` scheme), so schemathesis cannot obtain
tokens by itself; every call carries a bearer token from the emulator's own token endpoint for
the integration that API needs.

Only implemented operations are tested here (``test_operations.py`` covers the others). Positive
cases get realistic values mixed in (seeded list ids, e-mail addresses, page sizes), so GETs hit
existing resources instead of answering 404 to random ids.
"""

from __future__ import annotations

import base64
import copy
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any, TypeVar

import httpx2
import schemathesis
from hypothesis import strategies as st
from jsonschema import Draft4Validator, FormatChecker
from schemathesis import Case, CheckContext, GenerationMode, Response
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from listrak_sync.emulator.coverage import implemented_operations
from listrak_sync.emulator.recorded import corrected_spec
from listrak_sync.emulator.server import EmulatorServer
from listrak_sync.emulator.spec import allowed_values
from tests.conftest import DATA_CLIENT, EMAIL_CLIENT, PRIVACY_CLIENT, SMS_CLIENT

__all__ = [
    "APIS",
    "DEEP_EXAMPLES",
    "DEEP_RUN",
    "NEGATIVE_CHECKS",
    "POSITIVE_CHECKS",
    "QUICK_EXAMPLES",
    "Sandbox",
    "api_of",
    "implemented",
    "parametrize",
    "prepare_sandbox",
    "schema_for",
]

F = TypeVar("F", bound=Callable[..., None])
APIS = ("email", "sms", "data", "privacy")
CLIENTS = {
    "email": EMAIL_CLIENT,
    "sms": SMS_CLIENT,
    "data": DATA_CLIENT,
    "privacy": PRIVACY_CLIENT,
}
# Examples per operation and mode. The quick run (default suite) fuzzes a few examples; the deep
# run (`pytest -m slow tests/emulator/conformance`) adds schemathesis' coverage phase, which
# walks every boundary value, missing field, wrong type and undeclared method of every operation
# (thousands of requests), and fuzzes many more. LISTRAK_CONFORMANCE_EXAMPLES overrides the deep
# run's count.
QUICK_EXAMPLES = 6
DEEP_EXAMPLES = int(os.environ.get("LISTRAK_CONFORMANCE_EXAMPLES", "150"))
# Whether this pytest run may select `slow` tests (set by conftest.pytest_configure from -m).
DEEP_RUN = [False]


# -- checks -----------------------------------------------------------------------------------

# RFC 3339 with the offset optional: the specs' own examples write `0001-01-01T00:00:00`, which
# is how Listrak sends timestamps, so the strict format would fail the real API too.
_LISTRAK_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})?$"
)
LISTRAK_FORMATS = FormatChecker(())


@LISTRAK_FORMATS.checks("date-time")
def _date_time(value: object) -> bool:
    if not isinstance(value, str) or not _LISTRAK_DATE_TIME.match(value):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))  # rejects month 13, day 32 ...
    return True


@LISTRAK_FORMATS.checks("int32")
def _int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


@LISTRAK_FORMATS.checks("int64")
def _int64(value: object) -> bool:
    return not isinstance(value, int) or -(2**63) <= value < 2**63


def listrak_formats(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """The response body's formats (date-time, int32, int64) as Listrak writes them.

    ``response_schema_conformance`` checks structure with formats off (see LISTRAK_FORMATS).
    """
    spec = case.operation.schema.raw_schema
    operation = spec["paths"][case.operation.path].get(case.method.lower())
    if operation is None:  # an undeclared method, probed on purpose
        return None
    schema = operation["responses"].get(str(response.status_code), {}).get("schema")
    if schema is None or not response.content:
        return None
    validator = Draft4Validator(
        {**schema, "definitions": spec.get("definitions", {})}, format_checker=LISTRAK_FORMATS
    )
    errors = [
        error for error in validator.iter_errors(response.json()) if error.validator == "format"
    ]
    if errors:
        where = "/".join(str(part) for part in errors[0].absolute_path)
        raise AssertionError(f"response body at /{where}: {errors[0].message}")
    return True


def _api_wide_errors(spec: dict[str, Any]) -> set[int]:
    """The 4xx codes the spec's "Status Codes" table documents once for every route."""
    description = spec.get("info", {}).get("description", "")
    section = description.partition("# Status Codes")[2].partition("\n# ")[0]
    return {int(code) for code in re.findall(r"^\|\s*(4\d\d)\s*\|", section, re.MULTILINE)}


def documented_status(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """The status is documented for the operation, or is a 4xx the spec documents API-wide.

    Each spec lists 400, 401, 404, 405 and 415 once, in its "Status Codes" table, instead of on
    every operation: a 415 for a form-encoded POST is documented even where the operation's own
    responses stop at 400/201/401. 2xx and 5xx get no such allowance.
    """
    try:
        return status_code_conformance(ctx, response, case)
    except Failure:
        if response.status_code in _api_wide_errors(case.operation.schema.raw_schema):
            return True
        raise


# How jsonschema words a complaint; the emulator's body validation passes its message through.
_SCHEMA_COMPLAINTS = (
    "is not of type",
    "is a required property",
    "is not one of",
    "Additional properties are not allowed",
    "is not valid under any of the given schemas",
)


def spec_valid_body_accepted(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """A body the spec allows is not refused by the emulator's own schema validation.

    ``positive_data_acceptance`` lets 400 through (business rules); this catches the 400s that
    come from the emulator reading the spec more strictly than it is written (a member marked
    ``x-nullable`` refused as null, for instance).
    """
    if response.status_code != 400:
        return None
    message = str(response.json().get("message", ""))
    complaint = next((phrase for phrase in _SCHEMA_COMPLAINTS if phrase in message), None)
    if complaint is not None:
        raise AssertionError(f"a body the spec allows was refused: {message}")
    return True


POSITIVE_CHECKS = [
    not_a_server_error,
    documented_status,
    content_type_conformance,
    response_schema_conformance,
    listrak_formats,
    response_headers_conformance,
    positive_data_acceptance,
    spec_valid_body_accepted,
]
NEGATIVE_CHECKS = [
    not_a_server_error,
    documented_status,
    content_type_conformance,
    response_schema_conformance,
    listrak_formats,
    negative_data_rejection,
]

# Schema-valid input Listrak may still refuse on business rules (an unknown list, a malformed
# e-mail address the schema types as a plain string) answers 400/404; anything else on valid
# input (401, 405, 415, 5xx) is an emulator bug.
_ACCEPTED = ["2xx", "400", "404"]
_REJECTED = ["400", "404", "405", "415"]


def api_of(case: Case[Any]) -> str:
    """The API a case belongs to, from its spec's basePath (``/email`` -> ``email``)."""
    return _api(case.operation.schema)


def _api(schema: BaseSchema) -> str:
    base: str = schema.raw_schema["basePath"]
    return base.strip("/")


def _config(mode: GenerationMode, examples: int) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "phases": {"coverage": {"enabled": examples > QUICK_EXAMPLES}},
            "generation": {
                "mode": mode.value,
                "max-examples": examples,
                "deterministic": True,
                "database": "none",
            },
            "checks": {
                "response_schema_conformance": {"validate-formats": False},
                "positive_data_acceptance": {"expected-statuses": _ACCEPTED},
                "negative_data_rejection": {"expected-statuses": _REJECTED},
            },
            "suppress-health-check": ["all"],
        }
    )


@cache
def implemented(api: str) -> tuple[str, ...]:
    """operationIds the emulator implements for ``api`` (the registry, built once)."""
    return tuple(op_id for (owner, op_id) in implemented_operations() if owner == api)


def schema_for(api: str, mode: GenerationMode, examples: int = QUICK_EXAMPLES) -> BaseSchema:
    """The official spec of ``api``, narrowed to the emulator's implemented operations."""
    # The specs as corrected by recorded real traffic (listrak_sync.emulator.recorded).
    raw = copy.deepcopy(corrected_spec(api))
    schema = schemathesis.openapi.from_dict(raw, config=_config(mode, examples))
    if mode is GenerationMode.POSITIVE:
        schema.hook(flatmap_path_parameters)
        schema.hook(flatmap_query)
        schema.hook(flatmap_body)
    return schema.include(operation_id=list(implemented(api)))


def parametrize(mode: GenerationMode, examples: int = QUICK_EXAMPLES) -> Callable[[F], F]:
    """A test decorator over every implemented operation of every API, one test per operation.

    Schemathesis prepares these tests while pytest collects (for the deep run, that is where
    its coverage phase computes thousands of cases), so deep tests are only defined when the
    run can select them: see DEEP_RUN.
    """
    schemas = {api: schema_for(api, mode, examples) for api in APIS if implemented(api)}
    decorator: Callable[[F], F] = schemathesis.pytest.parametrize(**schemas)
    return decorator


# -- the sandbox ------------------------------------------------------------------------------


@dataclass
class Sandbox:
    """A reset, seeded emulator with one token per integration and the ids it holds."""

    base_url: str
    tokens: dict[str, str]
    known: dict[str, dict[str, list[Any]]] = field(default_factory=dict)  # api -> name -> ids

    def api_url(self, api: str) -> str:
        return f"{self.base_url}/{api}"

    def headers(self, api: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[api]}"}

    def http(self, api: str) -> httpx2.Client:
        return httpx2.Client(base_url=self.base_url, headers=self.headers(api), timeout=30)


SEED: dict[str, Any] = {
    "clients": [
        {"client_id": client[0], "client_secret": client[1], "integration": api}
        for api, client in CLIENTS.items()
    ],
    "email": {
        "lists": [
            {
                "listId": 1001,
                "listName": "Newsletter",
                "bounceHandling": "Standard",
                "bounceUnsubscribeCount": 3,
                "segmentationFieldGroups": [
                    {
                        "segmentationFieldGroupName": "Preferences",
                        "segmentationFields": [
                            {"segmentationFieldName": "Favorite Store", "maxLength": 50},
                            {"segmentationFieldName": "Summer Sale", "dataType": "CheckBox"},
                        ],
                    }
                ],
                "contacts": [
                    {
                        "emailAddress": "ada@example.com",
                        "segmentationFieldValues": {"Favorite Store": "Soho", "Summer Sale": "on"},
                    },
                    {"emailAddress": "grace@example.com"},
                    {"emailAddress": "Linus@Example.com", "subscriptionState": "Unsubscribed"},
                ],
            },
            {
                "listId": 1002,
                "listName": "VIP Early Access",
                "bounceHandling": "Aggressive",
                "bounceUnsubscribeCount": 1,
            },
        ],
        "banned": ["banned@example.com"],
        "suppressed": ["suppressed@example.com"],
    },
    "sms": {
        "fields": [
            {
                "segmentationFieldId": 501,
                "segmentationFieldName": "Favorite Store",
                "maxLength": 50,
            },
            {"segmentationFieldId": 502, "segmentationFieldName": "VIP", "dataType": "Checkbox"},
        ],
        "senderCodes": [
            {
                "shortCodeId": 301,
                "code": "55123",
                "country": "US",
                "lists": [
                    {"phoneListId": 401, "phoneListName": "Promotions"},
                    {"phoneListId": 402, "phoneListName": "Old Promotions", "status": "Inactive"},
                ],
                "contacts": [
                    {"phoneNumber": "+12155550101", "firstName": "Ada", "subscriptions": [401]},
                    {"phoneNumber": "+12155550102", "subscriptions": [401], "optedOut": True},
                    {
                        "phoneNumber": "+12155550103",
                        "segmentationFieldValues": [{"segmentationFieldId": 501, "value": "Soho"}],
                    },
                ],
            }
        ],
    },
}
# What SEED holds, per API, for the realistic strategies; prepare_sandbox() adds the ids the
# emulator assigns itself (email profile field groups and fields, a list import).
SEEDED: dict[str, dict[str, list[Any]]] = {
    "email": {
        "listId": [1001, 1001, 1002],  # 1001 holds the fields, contacts and imports
        "contactIdentifier": ["ada@example.com", "GRACE@example.com", "Linus@Example.com"],
    },
    "sms": {
        "senderCodeId": [301],
        "phoneListId": [401, 402],
        "segmentationFieldId": [501, 502],
        "phoneNumber": ["+12155550101", "12155550102", "(215) 555-0103"],
    },
    "data": {},
    "privacy": {},
}
KNOWN: dict[str, dict[str, list[Any]]] = {}
# How many sandboxes were prepared: a fixture reusing one can tell someone reset it since.
PREPARED = [0]

EMAILS = ["ada@example.com", "grace@example.com", "Linus@Example.com", "new.shopper@example.org"]
PHONES = ["+12155550101", "12155550102", "+1 (267) 777-1234", "+442071838750"]


def prepare_sandbox(server: EmulatorServer) -> Sandbox:
    """Reset the emulator, apply SEED, get tokens, and learn the ids the emulator assigned."""
    http = _client(server.base_url)
    http.headers.pop("Authorization", None)
    for path, doc in (("/_emulator/reset", {}), ("/_emulator/seed", SEED)):
        http.post(path, json=doc).raise_for_status()
    tokens = {api: _token(http, client) for api, client in CLIENTS.items()}
    known = {
        api: {name: list(values) for name, values in names.items()} for api, names in SEEDED.items()
    }
    sandbox = Sandbox(server.base_url, tokens, known)
    http.headers.update(sandbox.headers("email"))
    _learn_email(http, set(implemented("email")), known["email"])
    KNOWN.clear()
    KNOWN.update(known)
    PREPARED[0] += 1
    return sandbox


@cache
def _client(base_url: str) -> httpx2.Client:
    # Kept for the session: creating an httpx client (its SSL context) costs more than the
    # dozen requests a sandbox needs.
    return httpx2.Client(base_url=base_url, timeout=30)


def _token(http: httpx2.Client, client: tuple[str, str]) -> str:
    response = http.post(
        "/OAuth2/Token",
        data={
            "grant_type": "client_credentials",
            "client_id": client[0],
            "client_secret": client[1],
        },
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def _learn_email(http: httpx2.Client, implemented: set[str], known: dict[str, list[Any]]) -> None:
    """Add the ids the emulator gave the seeded profile fields, and a list import's id."""
    state = http.get("/_emulator/state").json()["email"]
    lists = state["lists"] if isinstance(state, dict) else []
    groups = [group for entry in lists for group in entry.get("segmentationFieldGroups", [])]
    known["segmentationFieldGroupId"] = [group["segmentationFieldGroupId"] for group in groups]
    known["segmentationFieldId"] = [
        field["segmentationFieldId"] for group in groups for field in group["segmentationFields"]
    ]
    if "ListImport_PostImportFileResource" in implemented:
        csv = "Email,Favorite Store\nnew.shopper@example.org,Austin\n"
        response = http.post(
            "/email/v1/List/1001/ListImport",
            json={
                "fileDelimiter": ",",
                "fileMappings": [
                    {"fileColumn": 0, "fileColumnType": "Email"},
                    {
                        "fileColumn": 1,
                        "fileColumnType": "SegmentationField",
                        "segmentationFieldId": known["segmentationFieldId"][0],
                    },
                ],
                "fileName": "shoppers.csv",
                "fileStream": base64.b64encode(csv.encode()).decode(),
                "hasColumnNames": True,
                "importType": "AddSubscribersAndSegmentationData",
                "segmentationImportType": "Update",
            },
        )
        if response.status_code != 201:
            raise AssertionError(f"seeding a list import: {response.status_code} {response.text}")
        known["importFileId"] = [int(response.json()["resourceId"])]


# -- realistic values for positive cases --------------------------------------------------------


def _realistic(api: str, name: str) -> st.SearchStrategy[Any] | None:
    """A strategy of values a real client of ``api`` would send for parameter or field ``name``."""
    known = KNOWN.get(api, {})
    if known.get(name):
        return st.sampled_from(known[name])
    if name in ("contactIdentifier", "emailAddress", "newEmailAddress", "testEmailAddress"):
        return st.sampled_from(EMAILS)
    if name == "phoneNumber":
        return st.sampled_from(PHONES)
    if name == "count":
        return st.integers(1, 5000).map(str)
    if name in ("startDate", "endDate", "startSubscribeDate", "endSubscribeDate"):
        return st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)).map(str)
    if name == "segmentationFieldIds" and known.get("segmentationFieldId"):
        ids = known["segmentationFieldId"]
        return st.lists(st.sampled_from(ids), min_size=1, max_size=len(ids)).map(
            lambda chosen: ",".join(str(item) for item in chosen)
        )
    return None


def _mix(
    context: schemathesis.HookContext, values: dict[str, Any], names: list[str] | None = None
) -> st.SearchStrategy[Any]:
    """``values`` with every member we know a realistic value for replaced, 3 times in 4.

    The other quarter keeps the schema's own edge cases (random ids answer 404, odd strings
    400), which the emulator must answer as documented too.
    """
    assert context.operation is not None
    api = _api(context.operation.schema)
    replacements = {
        name: strategy
        for name in (names if names is not None else list(values))
        if (strategy := _realistic(api, name)) is not None
    }
    if not replacements:
        return st.just(values)
    realistic = st.fixed_dictionaries(replacements).map(lambda drawn: {**values, **drawn})
    return _mostly(realistic, values)


def _mostly(realistic: st.SearchStrategy[Any], generated: Any) -> st.SearchStrategy[Any]:
    return st.integers(0, 3).flatmap(lambda roll: realistic if roll else st.just(generated))


def flatmap_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any]
) -> st.SearchStrategy[Any]:
    return _mix(context, path_parameters or {})


def flatmap_query(
    context: schemathesis.HookContext, query: dict[str, Any]
) -> st.SearchStrategy[Any]:
    # A random cursor is not one the API handed out; real clients start without one.
    query = {name: value for name, value in (query or {}).items() if name != "cursor"}
    return _mix(context, query)


def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    """The body with known ids, addresses and phones, and the spec's prose enums honoured.

    The specs state most enums in prose ("Allowed values are `Text`, `Numeric` ..."), which
    schemathesis cannot see; without this nearly every generated write is refused with 400.
    """
    operation = context.operation
    assert operation is not None
    api = _api(operation.schema)
    spec = operation.schema.raw_schema
    raw = spec["paths"][operation.path][operation.method.lower()]
    schema: dict[str, Any] = next(
        (p["schema"] for p in raw.get("parameters", []) if p.get("in") == "body"), {}
    )
    return _mostly(_body(api, body, schema, spec.get("definitions", {})), body)


def _fits(ids: list[Any] | None, name: str, prop: dict[str, Any]) -> bool:
    """Whether the realistic values for ``name`` have the type the body member declares."""
    if ids:
        kind = "integer" if isinstance(ids[0], int) else "string"
    else:
        kind = "string" if name in ("emailAddress", "phoneNumber") else "other"
    return prop.get("type") == kind


def _body(
    api: str, value: Any, schema: dict[str, Any], definitions: dict[str, Any]
) -> st.SearchStrategy[Any]:
    if "$ref" in schema:
        schema = definitions.get(schema["$ref"].rsplit("/", 1)[-1], {})
    if isinstance(value, dict):
        props = schema.get("properties", {})
        members: dict[str, st.SearchStrategy[Any]] = {}
        for name, item in value.items():
            prop = props.get(name, {})
            if "$ref" in prop:
                prop = definitions.get(prop["$ref"].rsplit("/", 1)[-1], {})
            allowed = allowed_values(prop.get("description"))
            known = _realistic(api, name)
            if allowed and isinstance(item, str):
                members[name] = st.sampled_from(allowed)
            elif known is not None and _fits(KNOWN.get(api, {}).get(name), name, prop):
                members[name] = known
            else:
                members[name] = _body(api, item, prop, definitions)
        return st.fixed_dictionaries(members)
    if isinstance(value, list):
        items = schema.get("items", {})
        return st.tuples(*(_body(api, item, items, definitions) for item in value)).map(list)
    return st.just(value)
