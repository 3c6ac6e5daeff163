"""Who may do what in the console, and the protections every page has (Starlette's TestClient
against the real app, project and emulator)."""

from __future__ import annotations

import re
import subprocess
import time

import pytest
from starlette.testclient import TestClient

from listrak_sync.web import create_app
from listrak_sync.web._app import post_routes
from tests.sync.helpers import CLI, FAST, seed_list
from tests.web.conftest import PASSWORDS, ConsoleProject, csrf_of, log_in


def test_pages_need_a_login(client: TestClient) -> None:
    for path in ("/", "/runs", "/segments", "/campaigns", "/campaigns/spring/preview"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == f"/login?next={path.replace('/', '%2F')}" or (
            response.headers["location"].startswith("/login?next=")
        )
    # htmx requests are told where to go instead of getting the login page as a fragment.
    response = client.get("/segments/members/size", headers={"hx-request": "true"})
    assert response.status_code == 401
    assert response.headers["hx-redirect"].startswith("/login")


def test_a_wrong_password_is_refused_and_repeated_failures_are_throttled(
    client: TestClient,
) -> None:
    token = csrf_of(client)
    for _ in range(5):
        response = client.post(
            "/login", data={"user": "ada", "password": "nope", "csrf": token, "next": "/"}
        )
        assert response.status_code == 401
        assert "Wrong user name or password" in response.text
    # The right password no longer helps until the window has passed.
    response = client.post(
        "/login", data={"user": "ada", "password": PASSWORDS["ada"], "csrf": token, "next": "/"}
    )
    assert response.status_code == 429
    assert "Too many failed logins" in response.text
    # Another user from the same address still can.
    log_in(client, "mia")


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(client: TestClient) -> None:
    token = csrf_of(client)
    response = client.post(
        "/login", data={"user": "nobody", "password": "whatever", "csrf": token, "next": "/"}
    )
    assert response.status_code == 401
    assert "Wrong user name or password" in response.text


def test_login_never_redirects_off_the_console(client: TestClient) -> None:
    token = csrf_of(client)
    response = client.post(
        "/login",
        data={"user": "val", "password": PASSWORDS["val"], "csrf": token,
              "next": "//evil.example/"},
        follow_redirects=False,
    )  # fmt: skip
    assert response.headers["location"] == "/"


def test_session_cookie_and_security_headers(client: TestClient) -> None:
    token = csrf_of(client)
    response = client.post(
        "/login",
        data={"user": "val", "password": PASSWORDS["val"], "csrf": token, "next": "/"},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    page = client.get("/")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    # The page loads htmx from the console itself, never from a CDN.
    assert '<script src="/static/htmx.min.js"' in page.text
    assert "https://" not in page.text
    assert client.get("/static/htmx.min.js").status_code == 200


def test_every_post_without_the_csrf_token_is_refused(client: TestClient) -> None:
    token = log_in(client, "ada")
    routes = post_routes(client.app)  # type: ignore[arg-type]
    assert len(routes) >= 8
    for route in routes:
        path = re.sub(r"\{(\w+)\}", lambda m: {"name": "spring"}.get(m[1], "x"), route.path)
        response = client.post(path, data={"confirm": "yes", "user": "ada"})
        assert response.status_code == 403, (path, response.status_code)
        wrong = client.post(path, data={"confirm": "yes", "csrf": token[::-1]})
        assert wrong.status_code == 403, path
    # Nothing was started: no run in the history.
    assert "No runs" in client.get("/runs").text


@pytest.mark.parametrize("user", ["val"])
def test_a_viewer_reads_but_changes_nothing(client: TestClient, user: str) -> None:
    token = log_in(client, user)
    for path in ("/", "/runs", "/segments", "/segments/members", "/campaigns/spring"):
        assert client.get(path).status_code == 200, path
    assert "New segment" not in client.get("/segments").text
    assert ">Plan<" not in client.get("/campaigns/spring").text
    for path in ("/segments/new", "/segments/north_america/edit", "/campaigns/spring/sync"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "needs the marketer role" in response.text
    for path in ("/campaigns/spring/plan", "/campaigns/spring/sync", "/segments/save"):
        response = client.post(path, data={"csrf": token, "confirm": "yes"})
        assert response.status_code == 403, path


def test_a_marketer_plans_but_cannot_approve_a_guard_stop(client: TestClient) -> None:
    token = log_in(client, "mia")
    assert client.get("/segments/new").status_code == 200
    response = client.post("/runs/any-run/approve", data={"csrf": token})
    assert response.status_code == 403
    assert "needs the admin role" in response.text


def test_a_user_removed_from_the_file_is_logged_out_at_once(
    client: TestClient, console_project: ConsoleProject
) -> None:
    log_in(client, "val")
    text = console_project.config_file.read_text()
    kept = [line for line in text.splitlines() if not line.strip().startswith("val:")]
    console_project.config_file.write_text("\n".join(kept) + "\n")
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303


def test_the_session_key_is_private_and_survives_a_restart(
    console_project: ConsoleProject, client: TestClient
) -> None:
    log_in(client, "val")
    key = console_project.root / ".listrak-sync" / "console" / "session.key"
    assert key.stat().st_mode & 0o777 == 0o600
    again = create_app(console_project.root)
    with TestClient(again, base_url="http://127.0.0.1", cookies=client.cookies) as second:
        assert second.get("/", follow_redirects=False).status_code == 200


def test_hash_password_prints_an_argon2_hash_and_refuses_short_passwords() -> None:
    done = subprocess.run(
        [CLI, "ui", "hash-password"], input="a-long-enough-password\n",
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("$argon2id$")
    short = subprocess.run(
        [CLI, "ui", "hash-password"], input="short\n", capture_output=True, text=True, timeout=60
    )
    assert short.returncode == 2
    assert "at least 12 characters" in short.stderr


def test_a_plain_password_in_the_project_file_is_a_project_error(
    console_project: ConsoleProject,
) -> None:
    text = re.sub(r"password_hash: '[^']+'", "password_hash: 'hunter2'",
                  console_project.config_file.read_text(), count=1)  # fmt: skip
    console_project.config_file.write_text(text)
    done = subprocess.run(
        [CLI, "validate", "-p", str(console_project.root)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert "not an argon2 hash" in done.stderr + done.stdout
    assert "hunter2" not in done.stderr + done.stdout


def test_pii_is_masked_unless_an_admin_asks(
    client: TestClient, console_project: ConsoleProject
) -> None:
    import listrak_sync
    from tests.sync.helpers import FAST, seed_list

    seed_list(console_project.emulator)
    console_project.set_customers(5, bad_emails=2)
    result = listrak_sync.sync(console_project.root, "spring", client_settings=FAST)
    run_id = result.units[0].run.run_id  # type: ignore[union-attr]
    email = re.compile(r"person\d+@example\.com")
    raw = re.compile(r"not-an-email-\d")
    for user in ("val", "mia", "ada"):
        client.cookies.clear()
        log_in(client, user)
        preview = client.get("/campaigns/spring/preview?pii=1").text
        run = client.get(f"/runs/{run_id}?pii=1").text
        csv_text = client.get(f"/runs/{run_id}/outcomes.csv?pii=1").text
        assert "invalid_key" in csv_text
        if user == "ada":
            assert email.search(preview)
            assert raw.search(run)
            assert raw.search(csv_text)
        else:  # asking is not enough
            assert not email.search(preview), user
            assert not raw.search(run), user
            assert not raw.search(csv_text), user
        default = client.get(f"/runs/{run_id}/outcomes.csv").text
        assert not raw.search(default)


def test_retry_and_approve_only_apply_to_runs_in_that_state(
    client: TestClient, console_project: ConsoleProject
) -> None:
    import listrak_sync
    from tests.sync.helpers import FAST, seed_list

    seed_list(console_project.emulator)
    result = listrak_sync.sync(console_project.root, "spring", client_settings=FAST)
    run_id = result.units[0].run.run_id  # type: ignore[union-attr]
    token = log_in(client, "ada")
    page = client.get(f"/runs/{run_id}").text
    assert "Retry the" not in page
    assert "Approve the removal" not in page
    retry = client.post(f"/runs/{run_id}/retry", data={"csrf": token})
    assert retry.status_code == 409
    assert "is succeeded, not partial" in retry.text
    approve = client.post(f"/runs/{run_id}/approve", data={"csrf": token})
    assert approve.status_code == 409
    assert "is succeeded, not refused" in approve.text


def test_segment_overlap_and_run_charts(
    client: TestClient, console_project: ConsoleProject
) -> None:
    import listrak_sync
    from tests.sync.helpers import FAST, seed_list

    log_in(client, "val")
    overlap = client.get("/segments/north_america/overlap").text
    # north_america has 16 of the 20 customers, all of them members.
    assert re.search(
        r"members</a></th>\s*<td class=\"num\">16</td><td class=\"num\">100.0%", overlap
    )
    seed_list(console_project.emulator)
    listrak_sync.sync(console_project.root, "spring", client_settings=FAST)
    runs = client.get("/runs").text
    assert "Duration of the last 1 runs" in runs
    assert re.search(
        r"<rect class=\"bar bar-enter\" x=\"0\" y=\"10\" width=\"12\" height=\"100\"", runs
    )


def test_csv_cells_that_look_like_formulas_are_kept_as_text() -> None:
    from listrak_sync.web._runs import _cell

    assert _cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert _cell("@SUM(A1)") == "'@SUM(A1)"
    assert _cell("-2+3") == "'-2+3"
    assert _cell("+1*******23") == "+1*******23"  # a masked phone stays as it is
    assert _cell("+16175550101") == "+16175550101"
    assert _cell("C00001") == "C00001"
    assert _cell(None) == ""


def test_a_missing_warehouse_is_an_error_page_not_a_traceback(
    client: TestClient, console_project: ConsoleProject
) -> None:
    log_in(client, "val")
    (console_project.root / "warehouse.duckdb").unlink()
    page = client.get("/segments/north_america")
    assert page.status_code == 500
    assert "warehouse.duckdb" in page.text
    assert "Traceback" not in page.text
    fragment = client.get("/segments/members/size", headers={"hx-request": "true"})
    assert fragment.status_code == 500
    assert fragment.text.startswith('<div role="alert">')
    assert client.get("/runs").status_code == 200  # pages without the warehouse still work


def test_behind_tls_the_session_cookie_is_secure(console_project: ConsoleProject) -> None:
    app = create_app(console_project.root, tls=True)
    with TestClient(app, base_url="https://127.0.0.1") as secure:
        token = csrf_of(secure)
        response = secure.post(
            "/login",
            data={"user": "val", "password": PASSWORDS["val"], "csrf": token, "next": "/"},
            follow_redirects=False,
        )
        assert "secure" in response.headers["set-cookie"].lower()
        assert "max-age=31536000" in secure.get("/").headers["strict-transport-security"]


def test_the_overview_shows_schedules_with_their_next_run(
    client: TestClient, console_project: ConsoleProject
) -> None:
    text = console_project.config_file.read_text()
    schedule = (
        'schedules:\n  nightly:\n    cron: "0 6 * * *"\n    timezone: America/New_York\n'
        "    campaigns: [spring]\n"
    )
    console_project.config_file.write_text(text.replace("console:\n", schedule + "console:\n"))
    log_in(client, "val")
    page = client.get("/").text
    assert '<th scope="row">nightly</th>' in page
    assert re.search(r"<td>20\d\d-\d\d-\d\d 06:00 E[SD]T</td>", page), page[-2000:]
    assert "sync spring" in page
    assert "active" in page


def test_a_sync_started_in_the_console_is_a_run_that_outlives_a_restart(
    client: TestClient, console_project: ConsoleProject
) -> None:
    seed_list(console_project.emulator)
    token = log_in(client, "mia")
    started = client.post("/campaigns/spring/sync", data={"csrf": token, "confirm": "yes"},
                          follow_redirects=False)  # fmt: skip
    job = started.headers["location"]
    deadline = time.monotonic() + 120
    while 'data-status="running"' in client.get(f"{job}?part=status").text:
        assert time.monotonic() < deadline, "the sync job did not finish"
        time.sleep(0.2)
    assert "succeeded" in client.get(job).text
    # A new console process: the job's progress page is gone, the run is in the state.
    restarted = create_app(console_project.root, client_settings=FAST)
    with TestClient(restarted, base_url="http://127.0.0.1") as again:
        log_in(again, "val")
        gone = again.get(job)
        assert gone.status_code == 404
        assert "the runs page has every run" in gone.text
        runs = again.get("/runs").text
        assert re.search(r"spring.newsletter.*?succeeded", runs, re.S)
