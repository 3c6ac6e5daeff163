"""A sync under the emulator's faults, through the CLI: exact end state, one readable line per
retry, a line per adopted import, a closing summary, and JSON lines with ``--log-format json``."""

from __future__ import annotations

import json

from tests.sync.helpers import SyncProject, list_state, people, seed_list


def _subscribed(project: SyncProject) -> set[str]:
    contacts = list_state(project.emulator)["contacts"]
    return {e for e, c in contacts.items() if c["subscriptionState"] == "Subscribed"}


def _import_names(project: SyncProject) -> list[str]:
    return [str(i.get("importFileName")) for i in list_state(project.emulator)["imports"]]


def test_a_burst_of_500s_on_the_import_start_is_waited_out(project: SyncProject) -> None:
    seed_list(project.emulator)
    project.set_people(people(40))
    project.emulator.admin.add_fault(
        method="POST", path="/ListImport$", fail_next=5, error_status=500
    )
    done = project.cli("sync", "spring")
    assert done.returncode == 0, done.stderr
    assert _subscribed(project) == {f"person{i}@example.com" for i in range(1, 41)}
    names = _import_names(project)
    assert len(names) == len(set(names)) == 1  # never imported twice
    retries = [line for line in done.stderr.splitlines() if line.startswith("retrying ")]
    assert len(retries) == 5
    assert retries[0].startswith("retrying POST /email/v1/List/1001/ListImport in ")
    assert retries[0].endswith(" s: HTTP 500 (attempt 2 of 8)")
    assert retries[-1].endswith(" s: HTTP 500 (attempt 6 of 8)")
    assert "stamina" not in done.stderr
    summary = [line for line in done.stderr.splitlines() if line.startswith("Listrak (email): ")]
    assert len(summary) == 1
    assert "5 retries (HTTP 500 ×5), 0 rate-limited (429)" in summary[0]


def test_a_lost_import_answer_is_adopted_and_told(project: SyncProject) -> None:
    seed_list(project.emulator)
    project.set_people(people(40))
    project.emulator.admin.add_fault(
        method="POST", path="/ListImport$", drop_next=1, drop_after_apply=True
    )
    done = project.cli("sync", "spring")
    assert done.returncode == 0, done.stderr
    assert _subscribed(project) == {f"person{i}@example.com" for i in range(1, 41)}
    names = _import_names(project)
    assert len(names) == len(set(names)) == 1
    assert "the lost attempt was applied after all; adopting it" in done.stderr
    assert "1 imports adopted after a lost answer" in done.stderr


def test_json_log_lines(project: SyncProject) -> None:
    seed_list(project.emulator)
    project.set_people(people(5))
    project.emulator.admin.add_fault(method="GET", path="/List$", fail_next=2, error_status=503)
    done = project.cli("--log-format", "json", "sync", "spring")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    retries = [line for line in lines if line.get("kind") == "retry"]
    assert [(r["reason"], r["attempt"], r["attempts"]) for r in retries] == [
        ("HTTP 503", 2, 8),
        ("HTTP 503", 3, 8),
    ]
    assert retries[0]["event"].startswith("retrying GET /email/v1/List in ")
    assert {"timestamp", "level", "logger", "wait"} <= set(retries[0])
    (summary,) = [line for line in lines if line.get("kind") == "summary"]
    assert summary["retries_by_reason"] == {"HTTP 503": 2}
    assert not [line for line in done.stderr.splitlines() if line.startswith("retrying")]


def test_nothing_listening_fails_naming_the_url_and_the_setting(project: SyncProject) -> None:
    import socket

    import yaml

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config_path = project.root / "listrak-sync.yml"
    config = yaml.safe_load(config_path.read_text())
    config["listrak"] = {
        "api_url": f"http://127.0.0.1:{port}",
        "auth_url": f"http://127.0.0.1:{port}",
    }
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    project.set_people(people(3))
    done = project.cli("sync", "spring")
    assert done.returncode == 1
    text = " ".join(done.stderr.split())  # rich wraps the error message
    assert f"cannot reach http://127.0.0.1:{port}/OAuth2/Token: connection refused" in text
    assert "is listrak.auth_url right?" in text
    assert "Traceback" not in text
    retries = [line for line in done.stderr.splitlines() if line.startswith("retrying ")]
    assert retries
    assert all(": connection refused (attempt " in line for line in retries)
