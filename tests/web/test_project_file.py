"""Saving from the console: listrak-sync.yml keeps its comments and layout, is checked as
``validate`` checks it, and is never overwritten after a change on disk."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from listrak_sync.config.filters import Condition
from listrak_sync.project.loader import Project, parse_project
from listrak_sync.web._project_file import FileChanged, file_hash, segment_edit
from tests.sync.helpers import SECRET_ENV
from tests.web.conftest import ConsoleProject, log_in

SAMPLE = Path(__file__).parents[2] / "src" / "listrak_sync" / "project" / "sample"


def _builder_form(client: TestClient, token: str, **fields: str) -> dict[str, str]:
    page = client.get("/segments/new").text
    base = re.search(r'name="base" value="([^"]*)"', page)
    assert base
    return {
        "csrf": token, "base": base[1], "original": "", "name": "big_spenders", "top": "all",
        "g0.join": "all", "g0.c0.column": "ltv", "g0.c0.op": "gte", "g0.c0.value": "300",
        **fields,
    }  # fmt: skip


def test_saving_a_new_segment_adds_only_its_lines(
    client: TestClient, console_project: ConsoleProject
) -> None:
    token = log_in(client, "mia")
    before = console_project.config_file.read_text()
    form = _builder_form(client, token)
    review = client.post("/segments/review", data=form)
    assert review.status_code == 200
    assert "+  big_spenders:" in review.text
    saved = client.post("/segments/save", data=form, follow_redirects=False)
    assert saved.status_code == 303
    after = console_project.config_file.read_text()
    added = "  big_spenders:\n    filter: {attribute: ltv, op: gte, value: 300}\n"
    assert after == before.replace("campaigns:\n", added + "campaigns:\n", 1)
    # The file is the truth: the saved segment is listed and sized from it.
    assert "big_spenders" in client.get("/segments").text
    size = client.get("/segments/big_spenders/size").text
    assert 'data-size="12"' in size


def test_editing_a_segment_keeps_its_place_and_the_comments(
    client: TestClient, console_project: ConsoleProject
) -> None:
    token = log_in(client, "mia")
    page = client.get("/segments/north_america/edit").text
    assert 'value="country" selected' in page
    assert 'value="US, CA"' in page
    base = re.search(r'name="base" value="([^"]*)"', page)
    assert base
    form = {
        "csrf": token, "base": base[1], "original": "north_america", "name": "north_america",
        "top": "any", "g0.join": "any", "g0.c0.column": "country", "g0.c0.op": "in",
        "g0.c0.value": "US, CA, MX",
    }  # fmt: skip
    assert client.post("/segments/save", data=form, follow_redirects=False).status_code == 303
    text = console_project.config_file.read_text()
    assert "north_america:   # US and Canada\n    filter: {attribute: country, op: in," in text
    assert "value: [US, CA, MX]}" in text
    assert text.index("members:") < text.index("north_america:") < text.index("campaigns:")
    assert text.startswith("# The console's test project: keep this comment")


def test_a_file_changed_on_disk_since_the_builder_opened_is_not_overwritten(
    client: TestClient, console_project: ConsoleProject
) -> None:
    token = log_in(client, "mia")
    form = _builder_form(client, token)
    review = client.post("/segments/review", data=form)
    assert review.status_code == 200
    # Someone edits the file in a text editor meanwhile.
    edited = console_project.config_file.read_text() + "# edited by hand\n"
    console_project.config_file.write_text(edited)
    saved = client.post("/segments/save", data=form)
    assert saved.status_code == 409
    assert "changed on disk since this form was opened" in saved.text
    assert console_project.config_file.read_text() == edited
    # The edit made by hand shows at once, and a fresh builder saves on top of it.
    fresh = _builder_form(client, token)
    assert client.post("/segments/save", data=fresh, follow_redirects=False).status_code == 303
    assert console_project.config_file.read_text().endswith("# edited by hand\n")


def test_a_project_validate_would_refuse_is_not_saved(
    client: TestClient, console_project: ConsoleProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = log_in(client, "mia")
    monkeypatch.delenv(SECRET_ENV)  # validate: the credential's variable is not set
    before = console_project.config_file.read_text()
    form = _builder_form(client, token)
    review = client.post("/segments/review", data=form)
    assert SECRET_ENV in review.text
    assert "Save to listrak-sync.yml" not in review.text
    saved = client.post("/segments/save", data=form)
    assert saved.status_code == 400
    assert console_project.config_file.read_text() == before


def test_bad_conditions_are_shown_on_their_row_and_nothing_is_saved(
    client: TestClient, console_project: ConsoleProject
) -> None:
    token = log_in(client, "mia")
    before = console_project.config_file.read_text()
    form = _builder_form(client, token, **{"g0.c0.value": "lots"})
    response = client.post("/segments/review", data=form)
    assert response.status_code == 400
    assert "&#39;lots&#39; is not a number" in response.text
    size = client.post("/segments/builder/size", data=form)
    assert "ltv: &#39;lots&#39; is not a number" in size.text
    taken = _builder_form(client, token, name="members")
    assert (
        "There is already a segment named members"
        in client.post("/segments/review", data=taken).text
    )
    assert console_project.config_file.read_text() == before


def test_the_sample_project_file_round_trips_untouched_but_for_the_new_segment(
    tmp_path: Path,
) -> None:
    shutil.copy(SAMPLE / "listrak-sync.yml", tmp_path / "listrak-sync.yml")
    text = (tmp_path / "listrak-sync.yml").read_text()
    project: Project = parse_project(text, tmp_path)
    edit = segment_edit(
        project, file_hash(text), "vips", "Lifetime value over 1000",
        Condition(attribute="lifetime_value", op="gt", value=1000),
    )  # fmt: skip
    changed = [line for line in edit.diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == [
        "+  vips:",
        "+    description: Lifetime value over 1000",
        "+    filter: {attribute: lifetime_value, op: gt, value: 1000}",
    ]
    with pytest.raises(FileChanged):
        segment_edit(project, "stale", "vips", "", Condition(attribute="x", op="is_null"))


def _campaign_form(client: TestClient, token: str, **fields: object) -> dict[str, object]:
    page = client.get("/campaigns/new").text
    base = re.search(r'name="base" value="([^"]*)"', page)
    assert base
    return {
        "csrf": token, "base": base[1], "original": "", "name": "summer",
        "segment": "north_america", "exclude": ["members"], "send_groups": "together",
        "g0.name": "a", "g0.percent": "45", "g0.destinations": ["newsletter"],
        "g1.name": "b", "g1.percent": "45", "g1.destinations": ["newsletter"],
        "control": "10", **fields,
    }  # fmt: skip


def test_a_campaign_with_groups_and_a_control_group_is_saved(
    client: TestClient, console_project: ConsoleProject
) -> None:
    token = log_in(client, "mia")
    form = _campaign_form(client, token)
    review = client.post("/campaigns/review", data=form)
    assert review.status_code == 200, review.text
    saved = client.post("/campaigns/save", data=form, follow_redirects=False)
    assert saved.status_code == 303
    text = console_project.config_file.read_text()
    assert (
        "  summer:\n    segment: north_america\n    exclude: [members]\n    groups:\n"
        "      - {name: a, percent: 45, destinations: [newsletter]}\n"
        "      - {name: b, percent: 45, destinations: [newsletter]}\n"
        "    control: {percent: 10}\n"
    ) in text
    # Opened again, the form shows what the file holds; an unchanged save changes nothing.
    page = client.get("/campaigns/summer/edit").text
    assert 'value="45"' in page
    assert 'value="members" checked' in page
    base = re.search(r'name="base" value="([^"]*)"', page)
    assert base
    again = {**form, "base": base[1], "original": "summer"}
    review = client.post("/campaigns/review", data=again)
    assert "+  summer" not in review.text
    assert "diff-add" not in review.text


def test_group_shares_over_100_percent_are_refused_with_the_models_message(
    client: TestClient, console_project: ConsoleProject
) -> None:
    token = log_in(client, "mia")
    before = console_project.config_file.read_text()
    form = _campaign_form(client, token, control="20")
    response = client.post("/campaigns/review", data=form)
    assert response.status_code == 400
    assert "100" in response.text
    assert client.post("/campaigns/save", data=form).status_code == 400
    assert console_project.config_file.read_text() == before


def test_a_sql_segment_shows_validate_errors_at_line_and_column_then_saves_as_a_block(
    client: TestClient, console_project: ConsoleProject
) -> None:
    token = log_in(client, "mia")
    page = client.get("/segments/new-sql").text
    base = re.search(r'name="base" value="([^"]*)"', page)
    assert base
    sql = "SELECT customer_id\nFROM customer_360\nWHERE contry = 'CA'"
    form = {"csrf": token, "base": base[1], "original": "", "name": "canadians",
            "description": "", "sql": sql}  # fmt: skip
    wrong = client.post("/segments/sql/size", data=form).text
    assert "line 3, column 7" in wrong
    assert "contry" in wrong
    assert "did you mean &#39;country&#39;?" in wrong
    form["sql"] = form["sql"].replace("contry", "country")
    assert 'data-size="4"' in client.post("/segments/sql/size", data=form).text
    review = client.post("/segments/sql/review", data=form)
    assert review.status_code == 200
    assert "+  canadians:" in review.text
    saved = client.post("/segments/sql/save", data=form, follow_redirects=False)
    assert saved.status_code == 303
    text = console_project.config_file.read_text()
    assert (
        "  canadians:\n    sql: |\n      SELECT customer_id\n      FROM customer_360\n"
        "      WHERE country = 'CA'\ncampaigns:" in text
    )
    # An existing SQL segment opens in the SQL editor.
    assert (
        "SELECT customer_id FROM customer_360 WHERE in_audience"
        in client.get("/segments/members/edit").text
    )


def test_attributes_per_destination_are_added_removed_and_other_settings_kept(
    client: TestClient, console_project: ConsoleProject
) -> None:
    token = log_in(client, "mia")
    form = _campaign_form(
        client,
        token,
        **{
            "d.newsletter.add": "city:City, phone",
            "d.newsletter.remove": "FirstName",
            "exclude": [],
        },
    )
    saved = client.post("/campaigns/save", data=form, follow_redirects=False)
    assert saved.status_code == 303, re.findall(r"<li>([^<]*)</li>", saved.text)
    text = console_project.config_file.read_text()
    assert (
        "    destinations:\n      newsletter:\n"
        "        add_attributes:\n          - {column: city, field: City}\n"
        "          - {column: phone}\n"
        "        remove_attributes: [FirstName]\n"
    ) in text
    preview = client.get("/campaigns/summer/preview").text
    assert '<th scope="col">City</th>' in preview
    assert '<th scope="col">FirstName</th>' not in preview
    # A setting the form does not show stays when the campaign is edited.
    text = text.replace(
        "      newsletter:\n        add_attributes:",
        "      newsletter:\n        attribute_table: merged_customers  # keep me\n"
        "        add_attributes:",
    )
    console_project.config_file.write_text(text)
    page = client.get("/campaigns/summer/edit").text
    assert 'value="city:City, phone"' in page
    base = re.search(r'name="base" value="([^"]*)"', page)
    assert base
    again = {**form, "base": base[1], "original": "summer", "d.newsletter.remove": ""}
    assert client.post("/campaigns/save", data=again, follow_redirects=False).status_code == 303
    text = console_project.config_file.read_text()
    assert "attribute_table: merged_customers" in text
    assert "remove_attributes" not in text
