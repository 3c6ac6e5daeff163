"""The CLI end to end: init + validate round trip, exit codes, masked previews."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from listrak_sync.cli import app
from listrak_sync.project.scaffold import SAMPLE_FILES, sample_text

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "sample-project"


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "250"})
    return result.exit_code, result.output


def test_init_then_validate_and_preview(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    code, output = run("init", str(project), "--customers", "600", "--seed", "3")
    assert code == 0, output
    secrets = project / "secrets.yml"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    assert (project / "warehouse.duckdb").exists()

    code, output = run("validate", "--project", str(project))
    assert code == 0, output
    assert "no problems" in output

    code, output = run("segments", "list", "-p", str(project))
    assert code == 0
    assert "recent_buyers" in output
    code, output = run("segments", "size", "north_america", "-p", str(project), "--by", "country")
    assert code == 0, output
    assert "reachable by email" in output
    assert "by country" in output
    code, output = run("segments", "show", "loyalty_gold_plus", "-p", str(project))
    assert code == 0
    assert "loyalty_tier" in output

    code, output = run("campaigns", "list", "-p", str(project))
    assert code == 0
    assert "spring_sale" in output
    code, output = run("campaigns", "show", "spring_sale", "-p", str(project), "--sql")
    assert code == 0
    assert "MD5" in output
    code, masked = run("campaigns", "preview", "spring_sale", "-p", str(project))
    assert code == 0, masked
    assert "newsletter" in masked
    assert "sms_marketing" in masked
    emails = re.compile(r"\b[a-z0-9._]{2,}@[a-z0-9-]+\.[a-z]{2,}")
    assert not emails.search(masked)  # masked: j***@e***.com
    code, revealed = run("campaigns", "preview", "spring_sale", "-p", str(project), "--show-pii")
    assert code == 0
    assert emails.search(revealed)


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    assert run("init", str(tmp_path), "--customers", "0")[0] == 0
    code, output = run("init", str(tmp_path), "--customers", "0")
    assert code == 1
    assert "already exists" in output


def test_validate_exit_codes(tmp_path: Path) -> None:
    code, output = run("validate", "-p", str(tmp_path))
    assert code == 1
    assert "listrak-sync init" in output
    (tmp_path / "listrak-sync.yml").write_text("segments:\n  s: {sqll: x}\n")
    code, output = run("validate", "-p", str(tmp_path), "--offline")
    assert code == 1
    assert "listrak-sync.yml:2:7: unknown field 'sqll'" in output
    assert "did you mean 'sql'?" in output
    (tmp_path / "listrak-sync.yml").write_text("segments:\n  s: {sql: select 1}\n")
    assert run("validate", "-p", str(tmp_path), "--offline")[0] == 0


def test_unknown_names_exit_non_zero(tmp_path: Path) -> None:
    assert run("init", str(tmp_path), "--customers", "50")[0] == 0
    code, output = run("segments", "size", "recent_buyer", "-p", str(tmp_path))
    assert code == 1
    assert "did you mean 'recent_buyers'?" in output
    code, output = run("campaigns", "preview", "spring", "-p", str(tmp_path))
    assert code == 1
    assert "no campaign named 'spring'" in output


def test_examples_folder_matches_the_scaffold() -> None:
    for source, target in SAMPLE_FILES.items():
        assert (EXAMPLES / target).read_text() == sample_text(source), target


# --- init never destroys a user's files ------------------------------------------------------


def test_init_appends_only_the_missing_gitignore_lines(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text(".env\nsecrets.yml\nnode_modules/")  # no final newline
    code, output = run("init", str(tmp_path), "--customers", "0")
    assert code == 0, output
    lines = (tmp_path / ".gitignore").read_text().splitlines()
    assert lines[:3] == [".env", "secrets.yml", "node_modules/"]
    assert lines.count("secrets.yml") == 1
    assert "*.duckdb" in lines
    assert ".listrak-sync/" in lines
    assert "added missing lines to" in output
    # A second run (forced) adds nothing more.
    assert run("init", str(tmp_path), "--customers", "0", "--force")[0] == 0
    assert (tmp_path / ".gitignore").read_text().splitlines() == lines


def test_init_force_replaces_the_config_but_never_the_secrets(tmp_path: Path) -> None:
    assert run("init", str(tmp_path), "--customers", "0")[0] == 0
    secrets = tmp_path / "secrets.yml"
    secrets.write_text("listrak_email_client_secret: my-real-secret\n")
    (tmp_path / "listrak-sync.yml").write_text("version: 1\n")
    code, output = run("init", str(tmp_path), "--customers", "0", "--force")
    assert code == 0, output
    assert secrets.read_text() == "listrak_email_client_secret: my-real-secret\n"
    assert (tmp_path / "listrak-sync.yml").read_text() == sample_text("listrak-sync.yml")
    assert f"kept {secrets}" in output


def test_a_refused_init_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "warehouse.duckdb").write_bytes(b"the user's own data")
    (tmp_path / ".gitignore").write_text(".env\n")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    code, output = run("init", str(tmp_path))
    assert code == 1
    assert "a warehouse already exists here" in output
    assert "--customers 0" in output  # the hint names an option init has
    assert "Traceback" not in output
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    # Both conflicts at once, still nothing written, and the hint's option exists.
    (tmp_path / "listrak-sync.yml").write_text("version: 1\n")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    code, output = run("init", str(tmp_path))
    assert code == 1
    assert "a project already exists here" in output
    assert "a warehouse already exists here" in output
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    for option in re.findall(r"--[a-z-]+", output):
        assert option in run("init", "--help")[1], option


def test_init_in_the_current_folder_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = run("init", ".", "--customers", "0")
    assert code == 0, output
    assert "Project ready in the current folder." in output
    assert "in .." not in output
    assert "-p ." not in output


def test_init_and_sample_data_default_to_the_same_seed(tmp_path: Path) -> None:
    assert run("init", str(tmp_path / "a"), "--customers", "40")[0] == 0
    target = tmp_path / "b.duckdb"
    code, output = run("sample-data", "--customers", "40", "--warehouse", str(target), "--json")
    assert code == 0, output
    assert json.loads(output)["seed"] == 42
    query = "SELECT string_agg(email, ',' ORDER BY customer_id) FROM merged_customers"
    with duckdb.connect(str(tmp_path / "a" / "warehouse.duckdb"), read_only=True) as a:
        left = a.execute(query).fetchone()
    with duckdb.connect(str(target), read_only=True) as b:
        right = b.execute(query).fetchone()
    assert left == right


def test_the_sample_campaign_is_what_it_says(tmp_path: Path) -> None:
    """spring_sale: recent buyers in North America (a country filter), minus an exclusion that
    removes somebody; and the email counts of `segments size` and `campaigns preview` are
    explained where they are shown."""
    project = tmp_path / "shop"
    assert run("init", str(project), "--customers", "3000")[0] == 0
    code, output = run("campaigns", "list", "-p", str(project), "--json")
    assert code == 0, output
    (spring,) = [c for c in json.loads(output) if c["name"] == "spring_sale"]
    assert "North America" in spring["description"]
    segment = spring["segment"]

    code, output = run("segments", "size", segment, "-p", str(project), "--by", "country", "--json")
    assert code == 0, output
    size = json.loads(output)
    countries = {value for value, _ in size["breakdown"]}
    assert countries
    assert countries <= {"US", "USA", "us", "CA", "Canada", "ca"}

    code, output = run("campaigns", "preview", "spring_sale", "-p", str(project), "--json")
    assert code == 0, output
    preview = json.loads(output)
    assert 0 < sum(preview["groups"].values()) < size["size"]  # the exclusion removes somebody

    code, output = run("segments", "size", segment, "-p", str(project))
    assert "`campaigns preview` counts differently" in " ".join(output.split())
    code, output = run("campaigns", "preview", "spring_sale", "-p", str(project), "--limit", "0")
    assert "`segments size` counts only the reachable ones" in " ".join(output.split())


def test_json_output_of_validate_and_segments(tmp_path: Path) -> None:
    assert run("init", str(tmp_path), "--customers", "50")[0] == 0
    code, output = run("validate", "-p", str(tmp_path), "--json")
    assert code == 0, output
    assert json.loads(output)["problems"] == []
    code, output = run("segments", "show", "high_churn_risk", "-p", str(tmp_path), "--json")
    assert code == 0, output
    assert "churn_risk" in json.loads(output)["sql"]
    code, output = run("campaigns", "show", "spring_sale", "-p", str(tmp_path), "--json")
    assert code == 0, output
    shown = json.loads(output)
    assert shown["destinations"]["newsletter"]["attributes"]["City"] == "city"
    code, output = run("segments", "list", "-p", str(tmp_path), "--json")
    assert {"name": "high_churn_risk", "form": "sql", "description": None} in json.loads(output)
    (tmp_path / "listrak-sync.yml").write_text("segments:\n  s: {sqll: x}\n")
    code, output = run("validate", "-p", str(tmp_path), "--offline", "--json")
    assert code == 1
    (problem,) = json.loads(output)["problems"]
    assert (problem["line"], problem["column"]) == (2, 7)
    assert problem["hint"] == "did you mean 'sql'?"
