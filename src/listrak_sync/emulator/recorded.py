"""Where recorded real traffic corrects Listrak's specs, as edits to the spec documents.

The emulator validates requests against the specs, and the conformance suite checks answers
against them; both use :func:`corrected_spec`, so a recorded behaviour that contradicts the spec
(``docs/reference/emulator.md`` lists each with its recording) is one edit here, not an
exception scattered through handlers and tests.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from .spec import load_spec

__all__ = ["corrected_spec"]


def _nullable(prop: dict[str, Any]) -> None:
    prop["x-nullable"] = True


def _email(spec: dict[str, Any]) -> None:
    definitions = spec["definitions"]
    contact = definitions["Contact"]
    # Recorded: a real client sends "segmentationFieldValues": null on every upsert, accepted.
    contact["required"] = [
        name for name in contact["required"] if name != "segmentationFieldValues"
    ]
    _nullable(contact["properties"]["segmentationFieldValues"])
    # Recorded: POST Contact answers 200 when the contact existed (201 only when created).
    post = spec["paths"]["/v1/List/{listId}/Contact"]["post"]
    post["responses"].setdefault(
        "200",
        {
            "description": "The contact existed and was updated.",
            "schema": post["responses"]["201"]["schema"],
        },
    )


def _data(spec: dict[str, Any]) -> None:
    # Recorded: the Data API answers 201 {"status": 201, "resourceId": null}.
    _nullable(spec["definitions"]["ResourceCreated"]["properties"]["resourceId"])


def _every_api(spec: dict[str, Any]) -> None:
    # The spec's own example, and every public client, have nextPageCursor null on the last page.
    for name, definition in spec["definitions"].items():
        if name.startswith("CollectionPaged["):
            _nullable(definition["properties"]["nextPageCursor"])


_CORRECTIONS = {"email": (_every_api, _email), "sms": (_every_api,), "data": (_data,)}


@cache
def corrected_spec(api: str) -> dict[str, Any]:
    """The spec of ``api`` with the recorded corrections applied (do not modify the result)."""
    spec = copy.deepcopy(load_spec(api))
    for correct in _CORRECTIONS.get(api, ()):
        correct(spec)
    return spec
