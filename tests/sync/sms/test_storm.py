"""An SMS sync through the CLI under a fault storm: exact end state, readable retry lines with
every phone number masked, and a closing summary."""

from __future__ import annotations

import re
import subprocess

from tests.conftest import SMS_CLIENT
from tests.sync.helpers import CLI, cli_env

from .conftest import LIST, SECRET_ENV, Person, SmsProject

STAY = range(100, 110)
LEAVE = range(110, 120)
NEW = range(120, 150)


def _phone(n: int) -> str:
    return f"+1215555{n:04d}"


def test_sms_sync_under_a_storm_ends_exact_and_logs_no_phone_numbers(
    sms_project: SmsProject,
) -> None:
    sms_project.destination = {"removal_guard": 0.9}
    sms_project.write_config()
    sms_project.seed([{"phoneNumber": _phone(n), "subscriptions": [LIST]} for n in [*STAY, *LEAVE]])
    sms_project.people([Person(n, _phone(n), f"P{n}", "Gold") for n in [*STAY, *LEAVE]])
    assert sms_project.sync().status == "succeeded"
    sms_project.people([Person(n, _phone(n), f"P{n}", "Gold") for n in [*STAY, *NEW]])

    admin = sms_project.emulator.admin
    # Creates applied but their answers lost; 500s on subscribes and unsubscribes; 503s on
    # reads; a rate limit answering bare 429s (no Retry-After, no error code).
    admin.add_fault(
        method="POST", path="/PhoneList/5001/Contact$", drop_next=4, drop_after_apply=True
    )
    admin.add_fault(method="POST", path="/Contact/.+/PhoneList/", fail_next=3, error_status=500)
    admin.add_fault(method="DELETE", path="/ContactUnsubscribe/", fail_next=3, error_status=500)
    admin.add_fault(method="GET", path="/sms/v1/", fail_next=3, error_status=503)
    admin.add_fault(client_id=SMS_CLIENT[0], rate_per_second=60, burst=8, bare_429=True)

    done = subprocess.run(
        [CLI, "sync", "texts", "-p", str(sms_project.root)],
        env=cli_env(sms_project.root, SECRET_ENV, SMS_CLIENT[1]),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    admin.clear_faults()
    assert sms_project.members() == {_phone(n) for n in [*STAY, *NEW]}

    retries = [line for line in done.stderr.splitlines() if line.startswith("retrying ")]
    assert len(retries) >= 9
    for line in retries:
        assert re.fullmatch(
            r"retrying (GET|POST|DELETE|PUT) /(sms/v1/\S+|OAuth2/Token) in \d+\.\d s: "
            r"(HTTP 50\d|429 rate limited|connection dropped) \(attempt \d of 8\)",
            line,
        ), line
    # No phone number in any output line, masked or not; the masked form keeps two digits.
    everything = done.stdout + done.stderr
    for n in [*STAY, *LEAVE, *NEW]:
        assert _phone(n)[2:] not in everything
    assert "%2B1********" in done.stderr
    (summary,) = [line for line in done.stderr.splitlines() if line.startswith("Listrak (sms): ")]
    assert "HTTP 500" in summary
