"""``listrak_sync.pull`` from Python: the caller's client and warehouse, and one report for
several sources, a failing one not stopping the others."""

from __future__ import annotations

import pytest

import listrak_sync
from listrak_sync.errors import ExitCode, UsageError
from listrak_sync.listrak import ClientSettings, Credentials, ListrakClient
from listrak_sync.project import ProjectError
from listrak_sync.warehouse import connect
from tests.conftest import EMAIL_CLIENT
from tests.source.conftest import SourceProject, email_source, seed_email, sms_source


async def test_pull_async_with_the_callers_client_and_warehouse(project: SourceProject) -> None:
    seed_email(project.emulator, 30)
    project.write({"news": email_source()})
    settings = ClientSettings.for_base_url(project.emulator.base_url)
    credentials = Credentials(client_id=EMAIL_CLIENT[0], client_secret=EMAIL_CLIENT[1])
    # No secret in the environment: the caller's client brings the credentials.
    with connect(project.warehouse_path) as warehouse:
        async with ListrakClient(settings=settings, email=credentials) as client:
            report = await listrak_sync.pull_async(
                project.root, "news", client=client, warehouse=warehouse
            )
        assert report.raise_for_status() is report
        assert [r.source for r in report.results] == ["news"]
        assert report.results[0].status == "succeeded"
        tables = warehouse.query("SELECT count(*) AS n FROM listrak_news_contacts")
        assert tables.column(0)[0].as_py() == 30


def test_a_failing_source_does_not_stop_the_others(
    project: SourceProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_email(project.emulator, 10)
    project.write({"news": email_source(), "texts": sms_source()})
    monkeypatch.setenv("TEST_EMAIL_SECRET", EMAIL_CLIENT[1])  # TEST_SMS_SECRET stays unset

    report = listrak_sync.pull(project.root)

    assert [r.source for r in report.results] == ["news"]
    assert [f.source for f in report.failures] == ["texts"]
    assert isinstance(report.failures[0].error, ProjectError)
    assert "TEST_SMS_SECRET" in str(report.failures[0].error)
    assert report.exit_code == ExitCode.ERROR
    with pytest.raises(ProjectError):
        report.raise_for_status()

    with pytest.raises(UsageError, match="no source named 'nope'") as raised:
        listrak_sync.pull(project.root, "nope")
    assert raised.value.exit_code == 2
    assert raised.value.hint == "sources: news, texts"
