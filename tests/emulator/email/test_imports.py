"""List imports: the four import types, the three segmentation import types, summary counts,
per-contact results, status, bad files and the Beta profile-field route."""

from __future__ import annotations

import base64

from listrak_sync.emulator.email import import_queue
from tests.conftest import Emulator
from tests.emulator.email.helpers import (
    BASE,
    all_contacts,
    contact,
    email_column,
    field_column,
    import_body,
    make_field,
    make_list,
    results,
    run_import,
    wait_for_imports,
)


def _values(http, list_id: int, email: str, *field_ids: int) -> dict[int, str]:  # type: ignore[no-untyped-def]
    found = contact(
        http, list_id, email, segmentationFieldIds=",".join(map(str, field_ids))
    ).json()["data"]
    return {v["segmentationFieldId"]: v["value"] for v in found["segmentationFieldValues"]}


def test_add_subscribers_counts_every_outcome(emulator: Emulator) -> None:
    emulator.admin.seed(
        {
            "email": {
                "banned": ["Banned@Example.com"],
                "suppressed": ["suppressed@example.com"],
                "lists": [
                    {
                        "listId": 5001,
                        "listName": "Outcomes",
                        "bounceHandling": "Standard",
                        "bounceUnsubscribeCount": 3,
                        "contacts": [
                            {"emailAddress": "already@example.com"},
                            {
                                "emailAddress": "Gone@Example.com",
                                "subscriptionState": "Unsubscribed",
                            },
                        ],
                    }
                ],
            }
        }
    )
    csv_text = "\n".join(
        [
            "email",
            "new@example.com",
            "ALREADY@example.com",
            "gone@example.com",
            "banned@example.com",
            "Suppressed@example.com",
            "not-an-email",
            "",
            "twice@example.com",
            "TWICE@example.com",
        ]
    )
    with emulator.http() as http:
        import_id, summary = run_import(
            emulator, http, 5001, import_body(csv_text, [email_column()])
        )
        assert summary == {
            "processedCount": 8,  # the blank line is not a row
            "subscribedCount": 2,
            "alreadySubscribedCount": 1,
            "alreadyUnsubscribedCount": 0,
            "bannedCount": 1,
            "invalidEmailCount": 1,
            "previouslyUnsubscribedCount": 1,
            "skippedCount": 1,
            "suppressedCount": 1,
            "unsubscribedCount": 0,
        }
        assert results(http, 5001, import_id) == {
            "new@example.com": "Subscribed",
            "ALREADY@example.com": "AlreadySubscribed",
            "gone@example.com": "PreviouslyUnsubscribed",
            "banned@example.com": "Banned",
            "Suppressed@example.com": "Suppressed",
            "not-an-email": "InvalidEmail",
            "twice@example.com": "SkippedDuplicate",
            "TWICE@example.com": "Subscribed",
        }
        # The unsubscribed contact stays unsubscribed; banned and suppressed never join.
        assert contact(http, 5001, "GONE@example.com").json()["data"]["subscriptionState"] == (
            "Unsubscribed"
        )
        assert contact(http, 5001, "banned@example.com").status_code == 404
        subscribed = {c["emailAddress"] for c in all_contacts(http, 5001)}
        assert subscribed == {"already@example.com", "new@example.com", "TWICE@example.com"}


def test_segmentation_import_types(emulator: Emulator) -> None:
    with emulator.http() as http:
        list_id = make_list(http)
        first = make_field(http, list_id, "FirstName")
        city = make_field(http, list_id, "City")
        mappings = [email_column(), field_column(1, first), field_column(2, city)]
        run_import(
            emulator,
            http,
            list_id,
            import_body(
                "email,first,city\na@example.com,Ann,Paris\nb@example.com,Bob,\n",
                mappings,
                import_type="AddSubscribersAndSegmentationData",
            ),
        )
        assert _values(http, list_id, "a@example.com", first, city) == {
            first: "Ann",
            city: "Paris",
        }
        assert _values(http, list_id, "b@example.com", first, city) == {first: "Bob"}
        # Update: non-empty cells replace, empty cells leave the stored value.
        update = "email,first,city\na@example.com,Anna,\nb@example.com,,Rome\n"
        run_import(
            emulator,
            http,
            list_id,
            import_body(update, mappings, import_type="UpdateSubscribers"),
        )
        assert _values(http, list_id, "a@example.com", first, city) == {
            first: "Anna",
            city: "Paris",
        }
        assert _values(http, list_id, "b@example.com", first, city) == {first: "Bob", city: "Rome"}
        # Append: only empty fields are filled.
        append = "email,first,city\na@example.com,Zed,Oslo\nb@example.com,Zed,Oslo\n"
        run_import(
            emulator,
            http,
            list_id,
            import_body(
                append,
                mappings,
                import_type="UpdateSubscribers",
                segmentation_import_type="Append",
            ),
        )
        assert _values(http, list_id, "a@example.com", first, city) == {
            first: "Anna",
            city: "Paris",
        }
        # Overwrite: the file's values exactly, an empty cell clears the field.
        overwrite = "email,first,city\na@example.com,Al,\n"
        run_import(
            emulator,
            http,
            list_id,
            import_body(
                overwrite,
                mappings,
                import_type="UpdateSubscribers",
                segmentation_import_type="Overwrite",
            ),
        )
        assert _values(http, list_id, "a@example.com", first, city) == {first: "Al"}
        assert _values(http, list_id, "b@example.com", first, city) == {first: "Bob", city: "Rome"}


def test_update_subscribers_touches_only_existing_and_respects_unsubscribes(
    emulator: Emulator,
) -> None:
    with emulator.http() as http:
        list_id = make_list(http)
        first = make_field(http, list_id, "FirstName")
        run_import(
            emulator,
            http,
            list_id,
            import_body("e\nin@example.com\nout@example.com\n", [email_column()]),
        )
        run_import(
            emulator,
            http,
            list_id,
            import_body("e\nout@example.com\n", [email_column()], import_type="RemoveSubscribers"),
        )
        body = import_body(
            "e,f\nin@example.com,In\nout@example.com,Out\nstranger@example.com,X\n",
            [email_column(), field_column(1, first)],
            import_type="UpdateSubscribers",
        )
        import_id, summary = run_import(emulator, http, list_id, body)
        assert summary["alreadySubscribedCount"] == 1
        assert summary["previouslyUnsubscribedCount"] == 1
        assert summary["skippedCount"] == 1
        assert summary["subscribedCount"] == 0
        assert results(http, list_id, import_id) == {
            "in@example.com": "Updated",
            "out@example.com": "PreviouslyUnsubscribed",
            "stranger@example.com": "SkippedNotOnList",
        }
        assert _values(http, list_id, "out@example.com", first) == {}
        assert contact(http, list_id, "stranger@example.com").status_code == 404
        # includeUnsubscribed updates unsubscribed contacts too, without resubscribing them.
        body["includeUnsubscribed"] = True
        run_import(emulator, http, list_id, body)
        assert _values(http, list_id, "out@example.com", first) == {first: "Out"}
        out = contact(http, list_id, "out@example.com").json()["data"]
        assert out["subscriptionState"] == "Unsubscribed"


def test_remove_subscribers(emulator: Emulator) -> None:
    with emulator.http() as http:
        list_id = make_list(http)
        run_import(
            emulator,
            http,
            list_id,
            import_body("e\na@example.com\nb@example.com\n", [email_column()]),
        )
        _, summary = run_import(
            emulator,
            http,
            list_id,
            import_body(
                "e\nA@example.com\nnobody@example.com\n",
                [email_column()],
                import_type="RemoveSubscribers",
            ),
        )
        assert summary["unsubscribedCount"] == 1
        assert summary["skippedCount"] == 1
        gone = contact(http, list_id, "a@example.com").json()["data"]
        assert gone["subscriptionState"] == "Unsubscribed"
        assert gone["unsubscribeMethod"] == "Import"
        _, again = run_import(
            emulator,
            http,
            list_id,
            import_body("e\na@example.com\n", [email_column()], import_type="RemoveSubscribers"),
        )
        assert again["alreadyUnsubscribedCount"] == 1
        # A later AddSubscribers import does not bring the contact back.
        _, added = run_import(
            emulator, http, list_id, import_body("e\na@example.com\n", [email_column()])
        )
        assert added["previouslyUnsubscribedCount"] == 1
        assert [c["emailAddress"] for c in all_contacts(http, list_id)] == ["b@example.com"]


def test_profile_values_are_checked_per_type(emulator: Emulator) -> None:
    with emulator.http() as http:
        list_id = make_list(http)
        fields = {
            "Birthday": make_field(http, list_id, "Birthday", "Date"),
            "Spend": make_field(http, list_id, "Spend", "Numeric"),
            "VIP": make_field(http, list_id, "VIP", "CheckBox"),
            "Code": make_field(http, list_id, "Code", max_length=3),
        }
        mappings = [email_column()] + [
            field_column(i + 1, field_id) for i, field_id in enumerate(fields.values())
        ]
        csv_text = (
            "email,birthday,spend,vip,code\n"
            "good@example.com,1990-05-17,12.5,ON,abc\n"
            "us@example.com,05/17/1990,3,off,\n"
            "date@example.com,17.05.1990,1,on,a\n"
            "num@example.com,1990-05-17,lots,on,a\n"
            "box@example.com,1990-05-17,1,yes,a\n"
            "long@example.com,1990-05-17,1,on,abcd\n"
        )
        import_id, summary = run_import(
            emulator,
            http,
            list_id,
            import_body(csv_text, mappings, import_type="AddSubscribersAndSegmentationData"),
        )
        assert summary["subscribedCount"] == 2
        assert summary["skippedCount"] == 4
        outcome = results(http, list_id, import_id)
        assert {e for e, r in outcome.items() if r == "SkippedInvalidValue"} == {
            "date@example.com",
            "num@example.com",
            "box@example.com",
            "long@example.com",
        }
        assert _values(http, list_id, "good@example.com", *fields.values())[fields["VIP"]] == "on"


def test_mapping_defaults_and_external_ids(emulator: Emulator) -> None:
    with emulator.http() as http:
        list_id = make_list(http)
        tier = make_field(http, list_id, "Tier")
        body = import_body(
            "id;email;tier\n7;a@example.com;\n8;'b;c'@example.com;Gold\n",
            [
                {"fileColumn": 0, "fileColumnType": "ExternalContactID"},
                email_column(1),
                field_column(2, tier, default="Silver"),
            ],
            import_type="AddSubscribersAndSegmentationData",
            fileDelimiter=";",
            textQualifier="'",
        )
        _, summary = run_import(emulator, http, list_id, body)
        assert summary["subscribedCount"] == 1
        assert summary["invalidEmailCount"] == 1  # "b;c"@example.com kept whole, then refused
        found = contact(http, list_id, "a@example.com", segmentationFieldIds=str(tier))
        data = found.json()["data"]
        assert data["externalContactID"] == "7"
        assert data["segmentationFieldValues"][0]["value"] == "Silver"
        by_external = http.get(
            f"{BASE}/List/{list_id}/Contact", params={"externalContactId": "7"}
        ).json()["data"]
        assert [c["emailAddress"] for c in by_external] == ["a@example.com"]


def test_status_goes_queued_processing_completed(emulator: Emulator) -> None:
    queue = import_queue(emulator.server.state)
    with emulator.http() as http:
        list_id = make_list(http)
        with queue.paused():
            posted = http.post(
                f"{BASE}/List/{list_id}/ListImport",
                json=import_body("e\na@example.com\n", [email_column()]),
            )
            assert posted.status_code == 201
            import_id = posted.json()["resourceId"]
            status = http.get(f"{BASE}/List/{list_id}/ListImport/{import_id}/Status").json()
            assert status["data"] == {"status": "Queued"}
            summary = http.get(f"{BASE}/List/{list_id}/ListImport/{import_id}/Summary").json()
            assert summary["data"]["processedCount"] == 0
            assert all_contacts(http, list_id) == []
        wait_for_imports(emulator)
        status = http.get(f"{BASE}/List/{list_id}/ListImport/{import_id}/Status").json()["data"]
        assert status["status"] == "Completed"
        assert status["startDate"] <= status["endDate"]
        listed = http.get(f"{BASE}/List/{list_id}/ListImport").json()["data"]
        assert [(i["importFileId"], i["importFileName"]) for i in listed] == [
            (int(import_id), "contacts.csv")
        ]
        one = http.get(f"{BASE}/List/{list_id}/ListImport/{import_id}").json()["data"]
        assert one["importFileId"] == int(import_id)
        assert http.get(f"{BASE}/List/{list_id}/ListImport/999/Status").status_code == 404


def test_processing_is_visible_while_an_import_applies(emulator: Emulator) -> None:
    queue = import_queue(emulator.server.state)
    with emulator.http() as http:
        list_id = make_list(http)
        with queue.paused(after_start=True):
            posted = http.post(
                f"{BASE}/List/{list_id}/ListImport",
                json=import_body("e\na@example.com\n", [email_column()]),
            )
            import_id = posted.json()["resourceId"]
            assert queue.wait_started(timeout=30)
            status = http.get(f"{BASE}/List/{list_id}/ListImport/{import_id}/Status").json()
            assert status["data"]["status"] == "Processing"
            assert "startDate" in status["data"]
            assert "endDate" not in status["data"]
        wait_for_imports(emulator)
        status = http.get(f"{BASE}/List/{list_id}/ListImport/{import_id}/Status").json()
        assert status["data"]["status"] == "Completed"


def test_bad_files_are_refused_with_the_member_named(emulator: Emulator) -> None:
    with emulator.http() as http:
        list_id = make_list(http)
        url = f"{BASE}/List/{list_id}/ListImport"
        wrong_delimiter = import_body(
            "email;name\na@example.com;Ann\n",
            [email_column(), {"fileColumn": 1, "fileColumnType": "ExternalContactID"}],
        )
        answer = http.post(url, json=wrong_delimiter)
        assert answer.status_code == 400
        assert answer.json()["error"] == "ERROR_INVALID_PARAMETER"
        assert "fileMappings" in answer.json()["message"]
        assert "1 column(s)" in answer.json()["message"]
        bad_base64 = import_body("e\na@example.com\n", [email_column()])
        bad_base64["fileStream"] = "not base64!!"
        answer = http.post(url, json=bad_base64)
        assert answer.status_code == 400
        assert "fileStream" in answer.json()["message"]
        latin1 = import_body("e\n", [email_column()])
        latin1["fileStream"] = base64.b64encode(
            "e\nj\xf6rg@example.com\n".encode("latin-1")
        ).decode()
        answer = http.post(url, json=latin1)
        assert "UTF-8" in answer.json()["message"]
        no_email = import_body("e\na@example.com\n", [])
        assert "Email" in http.post(url, json=no_email).json()["message"]
        unknown_field = import_body(
            "e,f\na@example.com,1\n", [email_column(), field_column(1, 999)]
        )
        unknown_field["importType"] = "AddSubscribersAndSegmentationData"
        answer = http.post(url, json=unknown_field)
        assert "fileMappings[1].segmentationFieldId" in answer.json()["message"]
        bad_type = import_body("e\na@example.com\n", [email_column()], import_type="AddEveryone")
        assert "importType" in http.post(url, json=bad_type).json()["message"]
        bad_delimiter = import_body("e\na@example.com\n", [email_column()], fileDelimiter="||")
        assert "fileDelimiter" in http.post(url, json=bad_delimiter).json()["message"]
        missing = import_body("e\na@example.com\n", [email_column()])
        del missing["fileStream"]
        assert "fileStream" in http.post(url, json=missing).json()["message"]
        valid = import_body("e\na@example.com\n", [email_column()])
        assert http.post(f"{BASE}/List/4242/ListImport", json=valid).status_code == 404
        assert http.get(url).json()["data"] == []  # nothing was accepted


def test_rows_with_the_wrong_column_count_are_skipped_and_reported(emulator: Emulator) -> None:
    with emulator.http() as http:
        list_id = make_list(http)
        csv_text = "e,x\na@example.com,1\nb@example.com\nc@example.com,3,4\nd@example.com,4\n"
        import_id, summary = run_import(
            emulator,
            http,
            list_id,
            import_body(
                csv_text, [email_column(), {"fileColumn": 1, "fileColumnType": "ExternalContactID"}]
            ),
        )
        assert summary["subscribedCount"] == 2
        assert summary["skippedCount"] == 2
        outcome = results(http, list_id, import_id)
        assert outcome["b@example.com"] == "SkippedMalformedRow"
        assert outcome["c@example.com"] == "SkippedMalformedRow"


def test_beta_profile_field_route(emulator: Emulator) -> None:
    with emulator.http() as http:
        list_id = make_list(http)
        vip = make_field(http, list_id, "VIP", "CheckBox")
        run_import(
            emulator,
            http,
            list_id,
            import_body("e\na@example.com\nb@example.com\n", [email_column()]),
        )
        url = f"{BASE}/List/{list_id}/Contact/SegmentationField"
        payload = [
            {
                "emailAddress": "A@example.com",
                "segmentationFieldValues": [{"segmentationFieldId": vip, "value": "on"}],
            },
            {
                "emailAddress": "new@example.com",
                "segmentationFieldValues": [{"segmentationFieldId": vip, "value": "on"}],
            },
        ]
        posted = http.post(url, json=payload)
        assert posted.status_code == 201
        import_id = int(posted.json()["resourceId"])
        wait_for_imports(emulator)
        assert results(http, list_id, import_id) == {
            "A@example.com": "Updated",
            "new@example.com": "SkippedNotOnList",
        }
        assert _values(http, list_id, "a@example.com", vip) == {vip: "on"}
        unknown = [
            {
                "emailAddress": "a@example.com",
                "segmentationFieldValues": [{"segmentationFieldId": 1, "value": "on"}],
            }
        ]
        assert http.post(url, json=unknown).json()["error"] == "ERROR_INVALID_PARAMETER"
        assert http.post(url, json=[]).json()["error"] == "ERROR_INVALID_PARAMETER"
    emulator.admin.set_client("test-email", beta_access=False)
    with emulator.http() as http:
        refused = http.post(url, json=payload)
        assert refused.status_code == 400
        assert refused.json()["error"] == "ERROR_INTEGRATION_CANNOT_ACCESS_BETA_ROUTE"


def test_clearing_a_fields_values(emulator: Emulator) -> None:
    with emulator.http() as http:
        list_id = make_list(http)
        tier = make_field(http, list_id, "Tier")
        run_import(
            emulator,
            http,
            list_id,
            import_body(
                "e,t\na@example.com,Gold\nb@example.com,Silver\n",
                [email_column(), field_column(1, tier)],
                import_type="AddSubscribersAndSegmentationData",
            ),
        )
        groups = http.get(f"{BASE}/List/{list_id}/SegmentationFieldGroup").json()["data"]
        group_id = groups[0]["segmentationFieldGroupId"]
        field_url = (
            f"{BASE}/List/{list_id}/SegmentationFieldGroup/{group_id}/SegmentationField/{tier}"
        )
        dependency = http.delete(field_url)
        assert dependency.json()["error"] == "ERROR_RESOURCE_DEPENDENCY"
        cleared = http.delete(field_url + "/Values")
        assert cleared.status_code == 202
        import_id = cleared.json()["resourceId"]
        wait_for_imports(emulator)
        summary = http.get(f"{BASE}/List/{list_id}/ListImport/{import_id}/Summary").json()["data"]
        assert summary["processedCount"] == 2
        assert _values(http, list_id, "a@example.com", tier) == {}
        assert http.delete(field_url).status_code == 200
