"""Shared fixtures: a real emulator on loopback, reset before each test that asks for it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import httpx2
import pytest

from listrak_sync.emulator import EmulatorServer
from listrak_sync.emulator.admin_client import EmulatorAdmin
from listrak_sync.emulator.realism import REALISM_ENV, Realism, realism_from_env

from .postgres_server import PostgresServer
from .snowflake_server import SnowflakeServer

EMAIL_CLIENT = ("test-email", "test-email-secret-4f1c")
SMS_CLIENT = ("test-sms", "test-sms-secret-9d2e")
DATA_CLIENT = ("test-data", "test-data-secret-77ab")
PRIVACY_CLIENT = ("test-privacy", "test-privacy-secret-3b8c")


@dataclass
class Emulator:
    """A running emulator: its URL, its admin client, and direct access to its state."""

    server: EmulatorServer
    admin: EmulatorAdmin

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def token(self, client: tuple[str, str] = EMAIL_CLIENT) -> str:
        response = httpx2.post(
            f"{self.base_url}/OAuth2/Token",
            data={
                "grant_type": "client_credentials",
                "client_id": client[0],
                "client_secret": client[1],
            },
        )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token

    def http(self, client: tuple[str, str] = EMAIL_CLIENT) -> httpx2.Client:
        """A plain HTTP client with a bearer token for ``client``."""
        return httpx2.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.token(client)}"},
            timeout=30,
        )


# The suites that talk to Listrak through the product's client run against the emulator in both
# realism modes (strict: the specs' tidy answers; realistic: the recorded quirks, see
# docs/reference/emulator.md). One pytest run, one emulator per mode: pytest groups the tests by
# mode, so each server starts once. LISTRAK_EMULATOR_REALISM=<mode> runs everything in that mode.
BOTH_MODES_UNDER = ("listrak", "sync", "source", "events")


def _realism_modes(path: Path) -> list[str]:
    if os.environ.get(REALISM_ENV):
        return [realism_from_env()]
    parts = path.relative_to(Path(__file__).parent).parts
    return ["strict", "realistic"] if parts and parts[0] in BOTH_MODES_UNDER else ["strict"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "emulator_server" in metafunc.fixturenames:
        modes = _realism_modes(Path(str(metafunc.definition.path)))
        metafunc.parametrize("realism", modes, indirect=True, scope="session")


# The conformance suite's resume tests (three syncs each, per destination) run in strict mode
# by default; the kill tests of test_resume.py cover resuming in realistic mode.
STRICT_BY_DEFAULT = {
    ("test_destination_conformance.py", "test_an_interrupted_run_is_finished_by_the_next_sync"),
    ("test_destination_conformance.py", "test_a_run_journaled_by_the_previous_version_resumes"),
    # A JVM per process: a minute each; the realistic emulator adds nothing Spark-specific.
    ("test_resume.py", "test_sync_planned_inside_spark_killed_after_its_plan_resumes"),
    ("test_resume.py", "test_sms_sync_planned_inside_spark_killed_after_its_plan_resumes"),
    # State in a server warehouse (about 20 s each): what they add is the state backend, and
    # test_resume.py's kill tests cover resuming against the realistic emulator.
    ("test_state_in_warehouse.py", "test_killed_sync_is_finished_from_another_working_directory"),
    (
        "test_state_in_warehouse.py",
        "test_sms_sync_killed_is_finished_from_another_working_directory",
    ),
    # PostgreSQL's advisory lock and validate's state checks: nothing the emulator's realism
    # changes (about 20 s each).
    ("test_state_in_postgres.py", "test_a_second_working_directory_is_refused_while_one_syncs"),
    ("test_state_in_postgres.py", "test_validate_finds_state_problems_in_place"),
    ("test_resume.py", "test_sync_planned_in_a_spark_connect_cluster_killed_resumes"),
    # Locks and read-only commands beside a sync paused after planning (about 20 s): what the
    # emulator's realism changes is only the closing sync, which every sync suite covers.
    ("test_side_by_side.py", "test_read_only_commands_and_a_second_sync_run_beside_a_sync"),
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Kill tests (``test_resume.py``) are the slowest: in realistic mode the default run keeps
    the first kill point of each, and ``-m slow`` runs the others (and STRICT_BY_DEFAULT)."""
    kept: set[tuple[str, str]] = set()
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or callspec.params.get("realism") != "realistic":
            continue
        if (item.path.name, getattr(item, "originalname", item.name)) in STRICT_BY_DEFAULT:
            item.add_marker(pytest.mark.slow)
            continue
        if item.path.name != "test_resume.py" or item.get_closest_marker("slow"):
            continue
        key = (str(item.path), getattr(item, "originalname", item.name))
        if key in kept:
            item.add_marker(pytest.mark.slow)
        kept.add(key)


@pytest.fixture(scope="session")
def realism(request: pytest.FixtureRequest) -> Realism:
    """The realism mode of the emulator a test gets (see BOTH_MODES_UNDER)."""
    mode = getattr(request, "param", None)
    return cast(Realism, mode) if mode else realism_from_env()


@pytest.fixture(scope="session")
def emulator_server(realism: Realism) -> Iterator[EmulatorServer]:
    with EmulatorServer(realism=realism) as server:
        yield server


@pytest.fixture
def emulator(emulator_server: EmulatorServer) -> Iterator[Emulator]:
    """A clean emulator with one email, one SMS, one data and one privacy integration."""
    with EmulatorAdmin(emulator_server.base_url) as admin:
        admin.reset()
        admin.seed(
            {
                "clients": [
                    {
                        "client_id": EMAIL_CLIENT[0],
                        "client_secret": EMAIL_CLIENT[1],
                        "integration": "email",
                    },
                    {
                        "client_id": SMS_CLIENT[0],
                        "client_secret": SMS_CLIENT[1],
                        "integration": "sms",
                    },
                    {
                        "client_id": DATA_CLIENT[0],
                        "client_secret": DATA_CLIENT[1],
                        "integration": "data",
                    },
                    {
                        "client_id": PRIVACY_CLIENT[0],
                        "client_secret": PRIVACY_CLIENT[1],
                        "integration": "privacy",
                    },
                ]
            }
        )
        yield Emulator(emulator_server, admin)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL cluster on loopback for the whole session (fails, never skips, when the
    server binaries are missing: `.ci/run` installs them)."""
    with PostgresServer() as server:
        yield server


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> str:
    """The name of a fresh, empty database on the session's PostgreSQL server."""
    return postgres_server.create_database()


@pytest.fixture(scope="session")
def snowflake_server() -> Iterator[SnowflakeServer]:
    """fakesnow's Snowflake emulator on loopback, behind Snowflake's login checks, for the whole
    session (test isolation: a database of one's own, ``snowflake_server.create_database()``)."""
    with SnowflakeServer() as server:
        yield server


@pytest.fixture(scope="session")
def spark_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The process's embedded Spark, started once (two cores, few shuffle partitions, no UI);
    yields its master. Every Spark warehouse a test opens is a session of this one engine,
    with its own tables (see warehouse/spark/adapter.py); fails, never skips, without Java."""
    from listrak_sync.warehouse import connect

    master = "local[2]"
    folder = tmp_path_factory.mktemp("spark-engine")
    with connect(f"{master}?warehouse_dir={folder}&shuffle_partitions=2"):
        yield master


@pytest.fixture
def spark_url(spark_engine: str, tmp_path: Path) -> str:
    """A connection string for a new, empty embedded Spark warehouse in the test's folder."""
    return f"{spark_engine}?warehouse_dir={tmp_path / 'spark-warehouse'}&shuffle_partitions=2"


@pytest.fixture(scope="session")
def _spark_connect_server() -> Iterator[str]:
    from .spark_connect_server import SparkConnectServer

    with SparkConnectServer() as server:
        yield server.url


@pytest.fixture
def spark_connect_url(_spark_connect_server: str) -> Iterator[str]:
    """A Spark Connect server on loopback for the whole session (``sc://127.0.0.1:PORT``).

    A Spark Connect session marks the whole process as "connect mode" in environment
    variables, after which PySpark refuses to start an embedded session; a production process
    uses one or the other, but the test process runs both, so the marks go after each test."""
    before = {name: os.environ.get(name) for name in _SPARK_CONNECT_MARKS}
    yield _spark_connect_server
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


_SPARK_CONNECT_MARKS = ("SPARK_CONNECT_MODE_ENABLED", "SPARK_REMOTE")
