"""Client secrets and tokens never show in logs, reprs, exceptions or metrics."""

from __future__ import annotations

import json
import logging

import pytest

from listrak_sync.listrak import AuthError, Credentials, ServerError
from tests.conftest import EMAIL_CLIENT, SMS_CLIENT, Emulator

from .conftest import MakeClient, credentials


async def test_secrets_stay_out_of_logs_reprs_and_errors(
    emulator: Emulator, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    email = credentials(EMAIL_CLIENT)
    client = make_client(email=email, sms=credentials(SMS_CLIENT))
    await client.email.lists()
    token = emulator.token()  # a second token, only to learn what tokens look like
    emulator.admin.expire_tokens(EMAIL_CLIENT[0])
    await client.email.lists()  # 401, refresh, replay
    emulator.admin.add_fault(path="/email/", fail_next=50, error_status=500)
    with pytest.raises(ServerError) as server_error:
        await client.email.get_list(1)
    emulator.admin.clear_faults()
    wrong = make_client(
        email=Credentials(client_id=EMAIL_CLIENT[0], client_secret="wrong-secret-31337")  # type: ignore[arg-type]
    )
    with pytest.raises(AuthError) as auth_error:
        await wrong.email.lists()

    live_tokens = [t for t in emulator.server.state.tokens if t]
    assert live_tokens
    secrets = [EMAIL_CLIENT[1], SMS_CLIENT[1], "wrong-secret-31337", token, *live_tokens]
    texts = [
        caplog.text,
        repr(client),
        repr(email),
        str(email),
        repr(client.session("email").tokens),
        json.dumps(client.metrics.snapshot()),
        str(server_error.value),
        repr(server_error.value),
        str(auth_error.value),
        repr(auth_error.value),
    ]
    for secret in secrets:
        for text in texts:
            assert secret not in text
    assert "test-email" in str(auth_error.value)  # the client id is fine to show
