"""Alert channels against real receivers on loopback: a signed webhook, Slack's format, mail
over STARTTLS with a login; and the scheduler telling each change once, with a recovery."""

from __future__ import annotations

import hashlib
import hmac
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from listrak_sync.config.credentials import EnvRef, SecretFileRef
from listrak_sync.config.schedules import AlertsConfig, Schedule
from listrak_sync.runtime import (
    AlertDeliveryError,
    Channels,
    Notice,
    RunResult,
    Scheduler,
    SchedulerState,
    TargetResult,
)

from .conftest import Mailbox, Receiver
from .helpers import Clock, InlineExecutor

SECRETS = {
    "HOOK_KEY": "signing-key-1f9",
    "SLACK_URL": "",
    "TOKEN": "bearer-token-77",
    "SMTP_PASSWORD": "smtp-password-5e1",
}


def _resolver(ref: EnvRef | SecretFileRef, path: tuple[str | int, ...]) -> SecretStr:
    name = ref.env if isinstance(ref, EnvRef) else ref.secret
    return SecretStr(SECRETS[name])


def _channels(receiver: Receiver, mailbox: Mailbox | None = None) -> Channels:
    SECRETS["SLACK_URL"] = receiver.url + "/slack"
    config: dict[str, object] = {
        "hook": {
            "type": "webhook",
            "url": receiver.url,
            "headers": {"Authorization": {"env": "TOKEN"}, "X-Team": "growth"},
            "signing_secret": {"env": "HOOK_KEY"},
        },
        "slack": {"type": "slack", "url": {"env": "SLACK_URL"}},
    }
    if mailbox is not None:
        config["mail"] = {
            "type": "email",
            "host": "localhost",
            "port": mailbox.port,
            "username": mailbox.user,
            "password": {"secret": "SMTP_PASSWORD"},
            "from": "listrak-sync@example.com",
            "to": ["ops@example.com"],
            "ca_file": str(mailbox.ca_file),
        }
    return Channels(
        AlertsConfig.model_validate({"channels": config}),
        _resolver,
        clock=lambda: datetime(2026, 3, 1, 12, tzinfo=UTC),
    )


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


NOTICE = Notice(
    key="nightly/failed",
    schedule="nightly",
    condition="failed",
    active=True,
    title="nightly: run failed",
    text="Scheduled run s-1 failed.",
    fields={"run_id": "s-1"},
)


def test_the_webhook_is_signed_with_hmac_sha256_and_carries_its_headers(
    receiver: Receiver,
) -> None:
    _channels(receiver).send("hook", NOTICE)
    (request,) = receiver.requests
    assert request.headers["Authorization"] == "bearer-token-77"
    assert request.headers["X-Team"] == "growth"
    signature = request.headers["X-Listrak-Sync-Signature"]
    stamp, digest = (part.split("=", 1)[1] for part in signature.split(","))
    expected = hmac.new(b"signing-key-1f9", stamp.encode() + b"." + request.body, hashlib.sha256)
    assert hmac.compare_digest(digest, expected.hexdigest())
    body = request.json()
    assert body["event"] == "alert"
    assert body["run_id"] == "s-1"
    assert body["condition"] == "failed"


def test_slack_gets_its_text_format(receiver: Receiver) -> None:
    _channels(receiver).send("slack", NOTICE)
    (request,) = receiver.requests
    assert request.path == "/hook/slack"
    assert "*nightly: run failed*" in request.json()["text"]


def test_mail_goes_over_starttls_with_a_login(receiver: Receiver, mailbox: Mailbox) -> None:
    _channels(receiver, mailbox).send("mail", NOTICE)
    (message,) = mailbox.messages
    assert message["Subject"] == "[listrak-sync] nightly: run failed"
    assert message["To"] == "ops@example.com"
    assert "Scheduled run s-1 failed." in message.get_payload()
    assert mailbox.logins == ["alerts"]


def test_failures_name_the_channel_but_never_the_secret(
    receiver: Receiver, mailbox: Mailbox
) -> None:
    receiver.status = 500
    with pytest.raises(AlertDeliveryError, match="HTTP 500") as failed:
        _channels(receiver).send("slack", NOTICE)
    assert "/slack" not in str(failed.value)
    mailbox.port = _closed_port()
    with pytest.raises(AlertDeliveryError, match="SMTP failed") as refused:
        _channels(receiver, mailbox).send("mail", NOTICE)
    assert "smtp-password" not in str(refused.value)


def _refused(share_bad: int = 0) -> RunResult:
    return RunResult(
        status="refused",
        targets=[
            TargetResult(
                kind="sync",
                name="spring",
                destination="newsletter",
                status="refused",
                run_id="r-9",
                removal_guard="removal guard: this run would turn off or unsubscribe 80 of 100",
                approve_command="listrak-sync sync spring --destination newsletter "
                "--allow-large-removal --project /srv/p",
                audience_total=20,
                audience_ok=20,
            )
        ],
    )


def _succeeded() -> RunResult:
    return RunResult(
        status="succeeded",
        targets=[
            TargetResult(
                kind="sync",
                name="spring",
                destination="newsletter",
                status="succeeded",
                run_id="r-10",
                counts={"added": 3},
                audience_total=20,
                audience_ok=20,
            )
        ],
    )


def test_an_alert_is_told_once_and_its_recovery_once(
    tmp_path: Path, receiver: Receiver, mailbox: Mailbox
) -> None:
    clock = Clock(datetime(2026, 3, 1, 12, tzinfo=UTC))
    results = [_refused(), _refused(), _succeeded(), _succeeded()]
    executor = InlineExecutor(auto=lambda run: results.pop(0))
    schedule = Schedule.model_validate(
        {"every": "1h", "campaigns": ["spring"], "alerts": ["hook", "mail"]}
    )
    channels = _channels(receiver, mailbox)
    state = SchedulerState(tmp_path / "s.sqlite")
    scheduler = Scheduler({"nightly": schedule}, state, executor, clock=clock, notifier=channels)
    scheduler.recover()
    for _ in range(4):
        clock.advance(hours=1)
        scheduler.tick()  # fires
        scheduler.tick()  # collects, alerts
    events = receiver.events()
    assert [(e["event"], e["condition"]) for e in events] == [
        ("alert", "removal_guard"),
        ("recovered", "removal_guard"),
    ]
    problem = events[0]["text"]
    assert "would turn off or unsubscribe 80 of 100" in problem
    assert "listrak-sync sync spring --destination newsletter --allow-large-removal" in problem
    assert "listrak-sync runs r-9" in problem
    assert [m["Subject"] for m in mailbox.messages] == [
        "[listrak-sync] nightly: stopped by the removal guard",
        "[listrak-sync] nightly: recovered (stopped by the removal guard)",
    ]


def test_a_channel_down_is_retried_later_without_repeating_to_the_others(
    tmp_path: Path, receiver: Receiver
) -> None:
    clock = Clock(datetime(2026, 3, 1, 12, tzinfo=UTC))
    executor = InlineExecutor(auto=lambda run: RunResult(status="failed", error="boom"))
    schedule = Schedule.model_validate(
        {"every": "1h", "campaigns": ["spring"], "alerts": ["hook", "slack"]}
    )
    state = SchedulerState(tmp_path / "s.sqlite")
    scheduler = Scheduler(
        {"n": schedule}, state, executor, clock=clock, notifier=_channels(receiver)
    )
    scheduler.recover()
    receiver.status = 503
    clock.advance(hours=1)
    scheduler.tick()
    scheduler.tick()
    assert len(receiver.requests) == 2  # both tried, both refused
    receiver.status = 200
    clock.advance(minutes=2)
    scheduler.deliver()
    clock.advance(minutes=2)
    scheduler.deliver()
    assert len(receiver.requests) == 4  # each retried once, then told
