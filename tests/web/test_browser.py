"""The console in a real browser: Debian's Chromium driven by Playwright (its own browser
download is not used: ``.ci/run`` installs the ``chromium`` package), against a console served
on loopback, the test emulator and a DuckDB warehouse.

Every page visited is saved as a screenshot under tests/web/artifacts/ and checked with axe-core
(vendored in tests/web/vendor/) for serious accessibility problems.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from listrak_sync.serving import BackgroundServer
from listrak_sync.web import create_app
from tests.sync.helpers import FAST, seed_list
from tests.web.conftest import PASSWORDS, ConsoleProject

ARTIFACTS = Path(__file__).parent / "artifacts"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
FULL_EMAIL = re.compile(r"person\d+@example\.com")
CHROMIUM_ENV = "LISTRAK_SYNC_CHROMIUM"


def _chromium() -> str:
    found = (
        os.environ.get(CHROMIUM_ENV) or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not found:
        pytest.fail(
            "no Chromium: install Debian's `chromium` package (.ci/run does) or set "
            f"{CHROMIUM_ENV} to its executable"
        )
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=_chromium())
        yield launched
        launched.close()


@pytest.fixture
def console_url(console_project: ConsoleProject) -> Iterator[str]:
    seed_list(console_project.emulator)
    app = create_app(console_project.root, client_settings=FAST)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    with BackgroundServer(
        server, host="127.0.0.1", port=0, thread_name="console", failure="console did not start",
        stop_timeout=10,
    ) as running:  # fmt: skip
        yield running.base_url


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    # bypass_csp only so the test can inject axe-core; the console's own pages run under it.
    made = browser.new_context(accept_downloads=True, bypass_csp=True)
    made.set_default_timeout(30_000)
    yield made
    made.close()


def shot(page: Page, name: str) -> None:
    """Screenshot the page into the artifacts folder, and fail on serious axe-core findings."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"
    )
    assert not found, f"{name}: accessibility problems: {found}"


def log_in(context: BrowserContext, base: str, user: str) -> Page:
    page = context.new_page()
    page.goto(f"{base}/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(PASSWORDS[user])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    return page


def settled(page: Page) -> None:
    """Wait until htmx has swapped in and wired up new content (a control that appeared a
    moment ago may not listen yet)."""
    page.wait_for_function(
        "typeof htmx !== 'undefined' && document.readyState === 'complete' && "
        "!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def wait_for_job(page: Page) -> None:
    expect(page.locator("#job-status")).not_to_have_attribute("data-status", "running",
                                                              timeout=90_000)  # fmt: skip
    expect(page.locator("#job-status")).to_have_attribute("data-status", "done")


def test_log_in_and_every_page_with_the_keyboard(context: BrowserContext, console_url: str) -> None:
    page = context.new_page()
    page.goto(f"{console_url}/")
    shot(page, "login")
    page.get_by_label("User name").fill("ada")
    page.get_by_label("Password").fill("wrong password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Wrong user name or password")
    page.get_by_label("Password").fill(PASSWORDS["ada"])
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("newsletter"))).to_contain_text("never run")
    shot(page, "overview")
    # The first Tab reaches the skip link; Enter on it moves to the page's content.
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to content")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("#main$"))
    # The navigation is reachable by Tab and followed with Enter.
    page.keyboard.press("Shift+Tab")
    for _ in range(6):
        if page.evaluate("document.activeElement.textContent") == "Segments":
            break
        page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Segments")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Segments")).to_be_visible()
    expect(page.locator("#size-members [data-size]")).to_have_attribute("data-size", "20")
    expect(page.locator("#size-north_america [data-size]")).to_have_attribute("data-size", "16")
    shot(page, "segments")
    page.get_by_role("link", name="north_america").click()
    page.get_by_label("Break down by").select_option("country")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("img", name="Members by country")).to_be_visible()
    shot(page, "segment")
    page.get_by_role("link", name="Campaigns").click()
    shot(page, "campaigns")
    page.get_by_role("link", name="Runs").click()
    expect(page.get_by_text("No runs.")).to_be_visible()
    shot(page, "runs-empty")


def test_build_a_segment_watch_its_size_change_and_save_it(
    context: BrowserContext, console_url: str, console_project: ConsoleProject
) -> None:
    page = log_in(context, console_url, "mia")
    page.get_by_role("link", name="Segments").click()
    page.get_by_role("link", name="New segment").click()
    size = page.locator("#live-size")
    expect(size).to_contain_text("Add a condition")
    settled(page)
    page.get_by_label("Segment name").fill("gold_us")
    # With the keyboard: choosing a column redraws the builder and keeps the focus there.
    column = page.locator("#g0c0-column")
    column.focus()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#g0c0-value")).to_have_attribute("list", "g0c0-values")  # redrawn
    settled(page)
    expect(column).to_be_focused()
    page.get_by_label("Column", exact=True).select_option("country")
    expect(page.locator("#g0c0-value")).to_have_attribute("list", "g0c0-values")
    # The column's pick-list: its most common values with their counts.
    expect(page.locator(".picks")).to_contain_text("US (12)")
    page.get_by_label("Operator").select_option("eq")
    page.get_by_label("Value").fill("US")
    expect(size.locator("[data-size]")).to_have_attribute("data-size", "12")
    page.get_by_label("Value").fill("CA")
    expect(size.locator("[data-size]")).to_have_attribute("data-size", "4")
    page.get_by_label("Value").fill("US")
    expect(size.locator("[data-size]")).to_have_attribute("data-size", "12")
    page.get_by_role("button", name="Add a condition to group 1").click()
    second = page.locator("#g0c1-column")
    expect(second).to_be_visible()
    settled(page)
    second.select_option("tier")
    # Choosing a column redraws the builder (operators and pick-list of that column).
    expect(page.locator("#g0c1-value")).to_have_attribute("list", "g0c1-values")
    page.locator("#g0c1-op").select_option("in")
    page.locator("#g0c1-value").fill("gold, silver")
    expect(size.locator("[data-size]")).to_have_attribute("data-size", "8")
    # Who is reachable comes in its own request, after the total.
    expect(page.locator("#live-reach [data-email]")).to_have_attribute("data-email", "8")
    expect(page.locator("#live-reach [data-sms]")).to_have_attribute("data-sms", "0")
    # OR instead of AND widens it again.
    page.get_by_label("Conditions joined by").select_option("any")
    expect(size.locator("[data-size]")).to_have_attribute("data-size", "17")
    page.get_by_label("Conditions joined by").select_option("all")
    expect(size.locator("[data-size]")).to_have_attribute("data-size", "8")
    shot(page, "segment-builder")
    page.get_by_role("button", name="Review and save…").click()
    expect(page.get_by_role("heading", name="Save segment gold_us?")).to_be_visible()
    diff = page.get_by_label("Changes to listrak-sync.yml")
    expect(diff).to_contain_text("+  gold_us:")
    expect(diff).to_contain_text("{attribute: tier, op: in, value: [gold, silver]}")
    shot(page, "segment-review")
    page.get_by_role("button", name="Save to listrak-sync.yml").click()
    expect(page.get_by_role("status")).to_contain_text("Saved to listrak-sync.yml")
    expect(page.locator(".size [data-size], [data-size]").first).to_have_attribute("data-size", "8")
    text = console_project.config_file.read_text()
    assert "# The console's test project: keep this comment" in text
    assert "north_america:   # US and Canada" in text
    assert "  gold_us:\n    filter:\n      all:\n" in text

    # Put it in a campaign with two treatment groups and a control group, and send it.
    page.get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Campaign name").fill("gold_push")
    page.get_by_label("Segment").select_option("gold_us")
    page.get_by_role("button", name="Add a treatment group").click()
    for index, name in enumerate(("early", "late")):
        page.locator(f"#g{index}-name").fill(name)
        page.locator(f"#g{index}-percent").fill("45")
        page.get_by_role("group", name=f"Destinations of group {index + 1}").get_by_label(
            "newsletter"
        ).check()
    page.get_by_label("Control group percent").fill("10")
    shot(page, "campaign-form")
    page.get_by_role("button", name="Review and save…").click()
    expect(page.get_by_label("Changes to listrak-sync.yml")).to_contain_text("+  gold_push:")
    shot(page, "campaign-review")
    page.get_by_role("button", name="Save to listrak-sync.yml").click()
    expect(page.get_by_role("status")).to_contain_text("Saved to listrak-sync.yml")
    groups = page.locator("#preview").get_by_role("table", name="Treatment groups")
    expect(groups).to_contain_text("early")
    expect(groups).to_contain_text("control")
    page.get_by_role("link", name="Sync now…").click()
    page.get_by_role("button", name="Yes, sync gold_push now").click()
    wait_for_job(page)
    expect(page.locator(".unit h2")).to_contain_text("gold_push/newsletter succeeded")
    assert "gold_push:" in console_project.config_file.read_text()


def test_build_a_segment_with_an_aggregate_over_orders_and_a_not_group(
    context: BrowserContext, console_url: str, console_project: ConsoleProject
) -> None:
    page = log_in(context, console_url, "mia")
    page.goto(f"{console_url}/segments/new")
    size = page.locator("#live-size")
    settled(page)
    page.get_by_label("Segment name").fill("loyal_not_gold")
    page.get_by_role("button", name="Add an aggregate over a related table to group 1").click()
    aggregate = page.get_by_role("group", name="Aggregate 1 of group 1")
    expect(aggregate).to_be_visible()
    settled(page)
    aggregate.get_by_label("Related table").select_option("orders")
    expect(aggregate.get_by_label("Date column")).to_contain_text("ordered_at")  # redrawn
    settled(page)
    expect(aggregate.get_by_label("Function")).to_have_value("count")
    aggregate.get_by_label("Comparison").select_option("gte")
    aggregate.get_by_label("Compared with").fill("2")
    # Customer i has i % 4 orders: 10 of the 20 have two or more.
    expect(size.locator("[data-size]")).to_have_attribute("data-size", "10")
    aggregate.get_by_label("Date column").select_option("ordered_at")
    aggregate.get_by_label("In the last (days)").fill("30")  # today's order only
    expect(size.locator("[data-size]")).to_have_attribute("data-size", "0")
    aggregate.get_by_label("In the last (days)").fill("90")
    expect(size.locator("[data-size]")).to_have_attribute("data-size", "10")
    page.get_by_role("button", name="Add a group").click()
    column = page.locator("#g1c0-column")
    expect(column).to_be_visible()
    settled(page)
    column.select_option("tier")
    expect(page.locator("#g1c0-value")).to_have_attribute("list", "g1c0-values")
    settled(page)
    page.locator("#g1c0-op").select_option("eq")
    page.locator("#g1c0-value").fill("gold")
    expect(size.locator("[data-size]")).to_have_attribute("data-size", "4")  # and gold
    page.get_by_label("Exclude the customers group 2 matches (NOT)").check()
    expect(size.locator("[data-size]")).to_have_attribute("data-size", "6")  # and not gold
    shot(page, "segment-builder-aggregate")
    page.get_by_role("button", name="Review and save…").click()
    diff = page.get_by_label("Changes to listrak-sync.yml")
    expect(diff).to_contain_text("- aggregate: {table: orders, function: count")
    expect(diff).to_contain_text("- not: {attribute: tier, op: eq, value: gold}")
    page.get_by_role("button", name="Save to listrak-sync.yml").click()
    expect(page.get_by_role("status")).to_contain_text("Saved to listrak-sync.yml")
    text = console_project.config_file.read_text()
    assert "within_last_days: 90}" in text, text
    assert "north_america:   # US and Canada" in text
    # Reloaded from the file, the builder shows the aggregate and the NOT group again.
    page.goto(f"{console_url}/segments/loyal_not_gold/edit")
    aggregate = page.get_by_role("group", name="Aggregate 1 of group 1")
    expect(aggregate.get_by_label("Related table")).to_have_value("orders")
    expect(aggregate.get_by_label("In the last (days)")).to_have_value("90")
    expect(page.get_by_label("Exclude the customers group 2 matches (NOT)")).to_be_checked()
    expect(size.locator("[data-size]")).to_have_attribute("data-size", "6")


def test_preview_plan_sync_open_the_run_and_download_its_csv(
    context: BrowserContext, console_url: str, console_project: ConsoleProject
) -> None:
    console_project.set_customers(20, bad_emails=2)
    page = log_in(context, console_url, "mia")
    page.get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="spring").click()
    preview = page.locator("#preview")
    expect(preview.get_by_role("table").first).to_contain_text("20")
    expect(preview.get_by_text("Sample rows (PII masked)")).to_be_visible()
    assert not FULL_EMAIL.search(preview.inner_text())
    shot(page, "campaign-preview")

    page.get_by_role("button", name="Plan").click()
    wait_for_job(page)
    expect(page.get_by_role("table", name=re.compile("Plan"))).to_contain_text("18")
    assert not FULL_EMAIL.search(page.inner_text("main"))
    shot(page, "campaign-plan")

    page.goto(f"{console_url}/campaigns/spring")
    page.get_by_role("link", name="Sync now…").click()
    shot(page, "campaign-sync-confirm")
    page.get_by_role("button", name="Yes, sync spring now").click()
    wait_for_job(page)
    expect(page.locator(".unit h2")).to_contain_text("succeeded")
    shot(page, "campaign-sync-done")

    page.get_by_role("link", name=re.compile("Open run")).click()
    expect(page.get_by_role("heading", name=re.compile("Run .* succeeded"))).to_be_visible()
    expect(page.get_by_role("table", name="Steps")).to_contain_text("add")
    expect(page.get_by_text("invalid_key 2")).to_be_visible()
    shot(page, "run")
    page.get_by_label("Outcome").select_option("invalid_key")
    page.get_by_role("button", name="Filter").click()
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download 2 row outcomes")).click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert [row["outcome"] for row in rows] == ["invalid_key", "invalid_key"]
    assert all("not-an-email" not in row["key"] + row["reason"] for row in rows)
    page.get_by_role("link", name="Runs").click()
    expect(page.get_by_role("row", name=re.compile(r"spring.newsletter"))).to_contain_text(
        "succeeded"
    )
    shot(page, "runs")
    page.get_by_role("link", name="Overview").click()
    expect(page.get_by_role("row", name=re.compile("newsletter"))).to_contain_text("succeeded")


def test_a_guard_stop_waits_for_an_admin(
    browser: Browser, context: BrowserContext, console_url: str, console_project: ConsoleProject
) -> None:
    marketer = log_in(context, console_url, "mia")
    for _ in range(2):
        marketer.goto(f"{console_url}/campaigns/spring/sync")
        marketer.get_by_role("button", name="Yes, sync spring now").click()
        wait_for_job(marketer)
        if "refused" in marketer.locator(".unit h2").inner_text():
            break
        # Everyone leaves the audience: a removal the guard stops.
        console_project.set_customers(20, in_audience=False)
    expect(marketer.locator(".unit h2")).to_contain_text("refused")
    expect(marketer.get_by_text("Only an admin can approve this removal")).to_be_visible()
    shot(marketer, "guard-stop-marketer")
    run_link = marketer.get_by_role("link", name=re.compile("Open run")).get_attribute("href")

    admin_context = browser.new_context(bypass_csp=True)
    try:
        admin = log_in(admin_context, console_url, "ada")
        admin.goto(f"{console_url}{run_link}")
        guard = admin.get_by_role("region", name="Stopped by the removal guard")
        expect(guard).to_contain_text("remove 20 of 20 members")
        shot(admin, "guard-stop-admin")
        guard.get_by_role("button", name=re.compile("Approve the removal")).click()
        wait_for_job(admin)
        expect(admin.locator(".unit h2")).to_contain_text("succeeded")
        expect(admin.get_by_text("with the large removal approved for newsletter")).to_be_visible()
        shot(admin, "guard-approved")
    finally:
        admin_context.close()


def test_a_viewer_is_refused_changes_and_sees_pii_masked(
    context: BrowserContext, console_url: str, console_project: ConsoleProject
) -> None:
    page = log_in(context, console_url, "val")
    page.goto(f"{console_url}/campaigns/spring")
    expect(page.locator("#preview").get_by_text("Sample rows (PII masked)")).to_be_visible()
    assert not FULL_EMAIL.search(page.inner_text("main"))
    expect(page.get_by_role("button", name="Plan")).to_have_count(0)
    shot(page, "viewer-campaign")
    page.goto(f"{console_url}/segments/new")
    expect(page.get_by_role("alert")).to_contain_text("needs the marketer role")
    shot(page, "viewer-refused")
    # Even a hand-made POST with the session's own token is refused by role.
    token = page.evaluate("document.querySelector('input[name=csrf]').value")
    refused = page.request.post(
        f"{console_url}/campaigns/spring/sync", form={"csrf": token, "confirm": "yes"}
    )
    assert refused.status == 403
    # A page part that fails says why, in place.
    (console_project.root / "warehouse.duckdb").unlink()
    page.goto(f"{console_url}/segments")
    expect(page.locator("#size-members").get_by_role("alert")).to_contain_text("warehouse.duckdb")


def test_a_marketer_cannot_approve_and_a_post_without_csrf_is_refused(
    context: BrowserContext, console_url: str
) -> None:
    page = log_in(context, console_url, "mia")
    token = page.evaluate("document.querySelector('input[name=csrf]').value")
    approve = page.request.post(f"{console_url}/runs/some-run/approve", form={"csrf": token})
    assert approve.status == 403
    assert "needs the admin role" in approve.text()
    # The session cookie alone (as a forged cross-site form would send it) is not enough.
    forged = page.request.post(f"{console_url}/campaigns/spring/sync", form={"confirm": "yes"})
    assert forged.status == 403
    assert "CSRF" in forged.text()
    page.goto(f"{console_url}/runs")
    expect(page.get_by_text("No runs.")).to_be_visible()


def test_a_sql_segment_in_the_editor_and_the_events_page(
    context: BrowserContext, console_url: str, console_project: ConsoleProject
) -> None:
    page = log_in(context, console_url, "mia")
    page.goto(f"{console_url}/segments")
    page.get_by_role("link", name="New SQL segment").click()
    page.get_by_label("Segment name").fill("canadians")
    page.get_by_label("SQL").fill("SELECT customer_id\nFROM customer_360\nWHERE contry = 'CA'")
    size = page.locator("#live-size")
    expect(size.get_by_role("alert")).to_contain_text("line 3, column 7")
    shot(page, "sql-segment-error")
    page.get_by_label("SQL").fill("SELECT customer_id\nFROM customer_360\nWHERE country = 'CA'")
    expect(size.locator("[data-size]")).to_have_attribute("data-size", "4")
    shot(page, "sql-segment")
    page.get_by_role("button", name="Review and save…").click()
    page.get_by_role("button", name="Save to listrak-sync.yml").click()
    expect(page.get_by_role("status")).to_contain_text("Saved to listrak-sync.yml")
    assert "    sql: |\n      SELECT customer_id\n      FROM customer_360\n" in (
        console_project.config_file.read_text()
    )
    page.get_by_role("link", name="Events").click()
    expect(page.get_by_text("No event destination in the project file.")).to_be_visible()
    shot(page, "events")
