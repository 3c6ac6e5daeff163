"""SMS contacts, opt-outs and the opt status view that feeds the SMS sync's consent filter."""

from __future__ import annotations

import json

from tests.source.conftest import SENDER, SourceProject, phone, seed_sms, sms_source


def stored(i: int) -> str:
    """The number as Listrak stores and answers it: country code and digits, no plus."""
    return phone(i).removeprefix("+")


def test_sms_contacts_opt_outs_and_opt_status(project: SourceProject) -> None:
    seed_sms(project.emulator, 2_000)
    project.write({"sms": sms_source(field_names={71: "tier"})})

    result = project.pull()

    assert result.exit_code == 0, result.output
    by_list = project.query(
        "SELECT phone_list_id, opted_out, count(*) FROM listrak_sms_contacts GROUP BY 1, 2"
        " ORDER BY 1, 2"
    )
    # List 2001: every 7th opted out, every 11th (not 7th) unsubscribed; 2002: every 5th.
    opted_out_2001 = 2000 // 7 + 2000 // 11 - 2000 // 77
    opted_out_2002 = 2000 // 35
    assert by_list == [
        (2001, False, 2000 - opted_out_2001),
        (2001, True, opted_out_2001),
        (2002, False, 400 - opted_out_2002),
        (2002, True, opted_out_2002),
    ]
    row = project.query(
        "SELECT sender_code_id, phone_number, email_address, first_name, last_name, postal_code,"
        f" tier FROM listrak_sms_contacts WHERE phone_number = '{stored(2)}'"
    )
    assert row == [(SENDER, stored(2), "sms2@example.com", "Sam2", "Doe", "19103", "gold0")]
    assert project.query("SELECT count(*) FROM listrak_sms_opt_outs") == [(2000 // 7,)]
    status = dict(
        project.query(
            "SELECT phone, status FROM listrak_sms_opt_status"
            f" WHERE phone IN ('{stored(1)}', '{stored(7)}', '{stored(11)}', '{stored(55)}')"
        )
    )
    # 55 left list 2001 but is still subscribed to 2002: still consented at the sender code.
    assert status == {
        stored(1): "opted_in",
        stored(7): "opted_out",
        stored(11): "opted_out",
        stored(55): "opted_in",
    }
    assert project.query("SELECT count(*) FROM listrak_sms_opt_status") == [(2000,)]
    run = project.runs("sms")[0]
    assert run.counts["sms_opt_outs_read"] == 2000 // 7


def test_opted_in_only_and_incremental_opt_outs(project: SourceProject) -> None:
    seed_sms(project.emulator, 300)
    project.write({"sms": sms_source(opted_in_only=True, phone_lists=[2001])})
    assert project.pull().exit_code == 0
    assert project.query("SELECT DISTINCT opted_out FROM listrak_sms_contacts") == [(False,)]
    with project.emulator.http() as http:
        http.headers["Authorization"] = (
            f"Bearer {project.emulator.token(('test-sms', 'test-sms-secret-9d2e'))}"
        )
        answer = http.put(
            f"/sms/v1/ShortCode/{SENDER}/Contact",
            json={"phoneNumber": phone(1), "optedOut": True},
        )
        assert answer.status_code == 200, answer.text

    assert project.pull().exit_code == 0

    run = project.runs("sms")[0]
    assert run.details["full"] is False
    assert run.counts["sms_opt_outs_read"] < 300 // 7  # only opt-outs since the last one seen
    assert project.query(
        f"SELECT status FROM listrak_sms_opt_status WHERE phone = '{stored(1)}'"
    ) == [("opted_out",)]
    assert project.query("SELECT count(*) FROM listrak_sms_opt_outs") == [(300 // 7 + 1,)]


def test_unknown_sms_list_is_named(project: SourceProject) -> None:
    seed_sms(project.emulator, 5)
    project.write({"sms": sms_source(phone_lists=[9999])})
    result = project.pull()
    assert result.exit_code == 1
    assert "no active SMS list 9999" in " ".join(result.output.split())


def test_pull_prints_its_results_to_stdout_and_as_json(project: SourceProject) -> None:
    seed_sms(project.emulator, 30)
    project.write({"sms": sms_source(phone_lists=[2001])})
    done = project.subprocess()
    assert done.returncode == 0, done.stderr
    (run,) = project.runs("sms")
    assert "Pulled" in done.stdout  # results on stdout; progress and errors on stderr
    assert run.run_id in done.stdout  # whole, even at 80 columns
    assert "Pulled" not in done.stderr
    done = project.subprocess("--json")
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(done.stdout)
    assert result["source"] == "sms"
    assert result["status"] == "succeeded"
