"""Tokens: issue, expiry, pause, and the 401 every API answers without a valid one."""

from __future__ import annotations

import httpx2

from tests.conftest import EMAIL_CLIENT, SMS_CLIENT, Emulator

UNAUTHORIZED = {
    "status": 401,
    "error": "ERROR_UNAUTHORIZED",
    "message": "Authorization was denied for this request.",
}


def _token(emulator: Emulator, **form: str) -> httpx2.Response:
    return httpx2.post(f"{emulator.base_url}/OAuth2/Token", data=form)


def test_token_is_issued_for_valid_credentials(emulator: Emulator) -> None:
    response = _token(
        emulator,
        grant_type="client_credentials",
        client_id=EMAIL_CLIENT[0],
        client_secret=EMAIL_CLIENT[1],
    )
    assert response.status_code == 200
    body = response.json()
    # Recorded against the live API: lower-case bearer, one second under the lifetime.
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3599
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    assert len(body["access_token"]) > 20


def test_wrong_secret_and_wrong_grant_are_refused(emulator: Emulator) -> None:
    wrong = _token(
        emulator, grant_type="client_credentials", client_id=EMAIL_CLIENT[0], client_secret="nope"
    )
    # Recorded: 400 {"error": "Invalid Credentials"}, not RFC 6749's 401 invalid_client.
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "Invalid Credentials"}
    grant = _token(
        emulator, grant_type="password", client_id=EMAIL_CLIENT[0], client_secret=EMAIL_CLIENT[1]
    )
    assert grant.status_code == 400
    assert grant.json()["error"] == "unsupported_grant_type"
    as_json = httpx2.post(
        f"{emulator.base_url}/OAuth2/Token",
        json={
            "grant_type": "client_credentials",
            "client_id": EMAIL_CLIENT[0],
            "client_secret": EMAIL_CLIENT[1],
        },
    )
    assert as_json.status_code == 400


def test_missing_unknown_and_expired_tokens_get_listrak_401(emulator: Emulator) -> None:
    url = f"{emulator.base_url}/email/v1/List"
    assert httpx2.get(url).json() == UNAUTHORIZED
    assert httpx2.get(url, headers={"Authorization": "Bearer made-up"}).status_code == 401
    with emulator.http() as http:
        assert http.get("/email/v1/List").status_code == 200
        assert emulator.admin.expire_tokens(EMAIL_CLIENT[0]) == 1
        expired = http.get("/email/v1/List")
        assert expired.status_code == 401
        assert expired.json() == UNAUTHORIZED


def test_token_lifetime_is_configurable_per_client(emulator: Emulator) -> None:
    emulator.admin.set_client(EMAIL_CLIENT[0], token_ttl=5)
    response = _token(
        emulator,
        grant_type="client_credentials",
        client_id=EMAIL_CLIENT[0],
        client_secret=EMAIL_CLIENT[1],
    )
    assert response.json()["expires_in"] == 4


def test_paused_integration_gets_no_token_and_its_tokens_stop_working(emulator: Emulator) -> None:
    with emulator.http() as http:
        emulator.admin.set_client(EMAIL_CLIENT[0], paused=True)
        assert http.get("/email/v1/List").status_code == 401
        refused = _token(
            emulator,
            grant_type="client_credentials",
            client_id=EMAIL_CLIENT[0],
            client_secret=EMAIL_CLIENT[1],
        )
        assert refused.status_code == 401
        emulator.admin.set_client(EMAIL_CLIENT[0], paused=False)
        assert http.get("/email/v1/List").status_code == 200


def test_a_token_only_opens_its_own_integration(emulator: Emulator) -> None:
    with emulator.http(SMS_CLIENT) as http:
        assert http.get("/email/v1/List").json() == UNAUTHORIZED


def test_admin_state_never_shows_secrets(emulator: Emulator) -> None:
    state = emulator.admin.state(full=True)
    assert EMAIL_CLIENT[1] not in str(state)
