"""Unknown routes, wrong methods, content types and bodies are answered as Listrak does."""

from __future__ import annotations

from tests.conftest import Emulator


def test_unknown_route_and_wrong_method(emulator: Emulator) -> None:
    with emulator.http() as http:
        unknown = http.get("/email/v1/NoSuchThing")
        assert unknown.status_code == 404
        assert unknown.json()["error"] == "ERROR_UNKNOWN_ROUTE"
        wrong = http.patch("/email/v1/List")
        assert wrong.status_code == 405
        assert wrong.json()["error"] == "ERROR_UNSUPPORTED_METHOD"


def test_body_must_be_json_and_meet_the_spec(emulator: Emulator) -> None:
    with emulator.http() as http:
        form = http.post(
            "/email/v1/List",
            content=b"listName=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert form.status_code == 415
        assert form.json()["error"] == "ERROR_UNSUPPORTED_CONTENT_TYPE"
        broken = http.post(
            "/email/v1/List", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert broken.status_code == 400
        assert broken.json()["error"] == "ERROR_MALFORMED_REQUEST_BODY"
        missing = http.post("/email/v1/List", json={"listName": "x"})
        assert missing.status_code == 400
        assert missing.json()["error"] == "ERROR_INVALID_PARAMETER"
        assert "bounceHandling" in missing.json()["message"]
        wrong_type = http.post(
            "/email/v1/List",
            json={"listName": "x", "bounceHandling": "Standard", "bounceUnsubscribeCount": "three"},
        )
        assert wrong_type.status_code == 400
        assert "bounceUnsubscribeCount" in wrong_type.json()["message"]


def test_lists_round_trip(emulator: Emulator) -> None:
    with emulator.http() as http:
        made = http.post(
            "/email/v1/List",
            json={
                "listName": "Newsletter",
                "bounceHandling": "Standard",
                "bounceUnsubscribeCount": 3,
            },
        )
        assert made.status_code == 201
        list_id = int(made.json()["resourceId"])
        got = http.get(f"/email/v1/List/{list_id}").json()["data"]
        assert got["listName"] == "Newsletter"
        assert got["listId"] == list_id
        assert [entry["listId"] for entry in http.get("/email/v1/List").json()["data"]] == [list_id]
        missing = http.get("/email/v1/List/999999")
        assert missing.status_code == 404
        assert missing.json()["error"] == "ERROR_UNABLE_TO_LOCATE_RESOURCE"
