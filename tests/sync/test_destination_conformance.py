"""The behaviour every sync destination shares, checked on each one (as the Singer SDK checks
its targets): duplicates in the audience, invalid rows, leavers, resume after an interruption
(also from a journal written by the previous version), and permanent refusals.

Each destination gets a small harness saying how its keys look, how to seed a contact Listrak
refuses for good, and how to read its members and one attribute back from the emulator (over
HTTP). A new destination passes this suite by adding its harness to ``HARNESSES``. What only
one destination does (email's flag and mirror modes, SMS consent and pending members) stays in
tests/sync/email and tests/sync/sms, as do the killed-process resume tests.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from listrak_sync.state import RowOutcome
from listrak_sync.state.protocol import StateBackend
from listrak_sync.sync import UnitOutcome, Workspace
from listrak_sync.sync.hooks import on_checkpoint
from tests.conftest import EMAIL_CLIENT, SMS_CLIENT, Emulator
from tests.sync import helpers
from tests.sync.sms import conftest as sms


@dataclass(frozen=True)
class Row:
    """One customer of the audience: ``n`` names the person (their key is derived from it),
    ``raw`` overrides the key as the warehouse holds it (None: no key at all)."""

    customer: int
    n: int
    name: str
    attribute: str = "Gold"
    in_audience: bool = True
    raw: str | bool | None = False  # False: the harness's own raw form of key(n)


class Harness(abc.ABC):
    """A destination under test: a project synced to the emulator, and what Listrak holds."""

    refusal: str  # the row outcome of the contacts seed(refused=...) makes
    invalid: str  # a key the destination cannot accept

    def __init__(self, emulator: Emulator, root: Path) -> None:
        self.emulator = emulator
        self.root = root

    @abc.abstractmethod
    def key(self, n: int) -> str:
        """Person ``n``'s key as Listrak holds it."""

    @abc.abstractmethod
    def other_form(self, n: int) -> str:
        """Person ``n``'s key written another way that means the same key."""

    @abc.abstractmethod
    def customer_key(self, customer: int) -> str:
        """How a row outcome names an audience row with no usable key."""

    @abc.abstractmethod
    def seed(self, refused: Sequence[int] = ()) -> None:
        """An empty list; people ``refused`` are contacts Listrak refuses for good."""

    @abc.abstractmethod
    def set_rows(self, rows: Sequence[Row]) -> None: ...

    @abc.abstractmethod
    def sync(self, **options: Any) -> UnitOutcome: ...

    @abc.abstractmethod
    def members(self) -> set[str]:
        """Keys of the contacts in the audience, as Listrak holds them."""

    @abc.abstractmethod
    def names(self) -> dict[str, str | None]:
        """Key -> the first-name attribute Listrak holds."""

    @abc.abstractmethod
    def attributes(self) -> dict[str, str | None]:
        """Key -> the other attribute (a tier or a city) Listrak holds."""

    @abc.abstractmethod
    def old_journal(self, journal: dict[str, Any]) -> dict[str, Any]:
        """The target as the previous version journaled it (an untyped dict), with the ids of
        ``journal``."""

    def store(self) -> StateBackend:
        return Workspace.in_project(self.root).store()

    def outcomes(self, run_id: str) -> dict[str, RowOutcome]:
        with self.store() as store:
            return {o.key: o for o in store.outcomes(run_id)}


class EmailHarness(Harness):
    refusal = "previously_unsubscribed"
    invalid = "not-an-email"

    def __init__(self, emulator: Emulator, root: Path) -> None:
        super().__init__(emulator, root)
        self.project = helpers.SyncProject(root, emulator)
        root.mkdir()
        self.project.write_config()

    def key(self, n: int) -> str:
        return f"person{n}@example.com"

    def other_form(self, n: int) -> str:
        return f" Person{n}@Example.COM"

    def customer_key(self, customer: int) -> str:
        return f"customer_id=C{customer:06d}"

    def seed(self, refused: Sequence[int] = ()) -> None:
        gone = [{"emailAddress": self.key(n), "subscriptionState": "Unsubscribed"} for n in refused]
        helpers.seed_list(self.emulator, gone)

    def set_rows(self, rows: Sequence[Row]) -> None:
        self.project.set_people(
            helpers.Person(
                f"C{r.customer:06d}",
                self.key(r.n) if r.raw is False else r.raw or None,
                r.name,
                r.attribute,
                in_audience=r.in_audience,
            )
            for r in rows
        )

    def sync(self, **options: Any) -> UnitOutcome:
        return self.project.sync(**options)

    def members(self) -> set[str]:
        return {k for k, v in helpers.flags(self.emulator).items() if v == "on"}

    def _values(self, field: str) -> dict[str, str | None]:
        contacts = helpers.list_state(self.emulator)["contacts"]
        return {k: c["segmentationFieldValues"].get(field) for k, c in contacts.items()}

    def names(self) -> dict[str, str | None]:
        return self._values("FirstName")

    def attributes(self) -> dict[str, str | None]:
        return self._values("City")

    def old_journal(self, journal: dict[str, Any]) -> dict[str, Any]:
        return {
            "list_name": journal["list_name"],
            "mode": "flag",
            "list_id": journal["list_id"],
            "field_group_id": journal["field_group_id"],
            "field_group": journal["field_group"],
            "segment_field": journal["segment_field"],
            "segment_field_id": journal["segment_field_id"],
            "segment_field_created": False,
            "owner_field": None,
            "owner_field_id": None,
            "owner_field_created": False,
            "fields": [
                {
                    "column": spec["column"],
                    "name": spec["name"],
                    "field_id": spec["field_id"],
                    "data_type": spec["data_type"],
                    "created": False,
                    "max_length": spec["max_length"],
                }
                for spec in journal["fields"]
            ],
            "created": [],
            "would_create": [],
        }


class SmsHarness(Harness):
    refusal = "opted_out"
    invalid = "12345"

    def __init__(self, emulator: Emulator, root: Path) -> None:
        super().__init__(emulator, root)
        root.mkdir()
        self.project = sms.SmsProject(root, emulator)
        self.project.write_config()

    def key(self, n: int) -> str:
        return f"+1215555{n:04d}"

    def other_form(self, n: int) -> str:
        return f"(215) 555-{n:04d}"

    def customer_key(self, customer: int) -> str:
        return f"customer_id={customer}"

    def seed(self, refused: Sequence[int] = ()) -> None:
        self.project.seed(
            [
                {"phoneNumber": self.key(n), "optedOut": True, "optOutReason": "Campaign"}
                for n in refused
            ]
        )

    def set_rows(self, rows: Sequence[Row]) -> None:
        self.project.people(
            [
                sms.Person(
                    r.customer,
                    self.key(r.n) if r.raw is False else r.raw or None,
                    r.name,
                    r.attribute,
                    in_audience=r.in_audience,
                )
                for r in rows
            ]
        )

    def sync(self, **options: Any) -> UnitOutcome:
        return self.project.sync(**options)

    def members(self) -> set[str]:
        return self.project.members()

    def names(self) -> dict[str, str | None]:
        return {k: c.get("firstName") for k, c in self.project.contacts().items()}

    def attributes(self) -> dict[str, str | None]:
        return {
            k: next(
                (
                    v["value"]
                    for v in c["segmentationFieldValues"]
                    if v["segmentationFieldId"] == 7003
                ),
                None,
            )
            for k, c in self.project.contacts().items()
        }

    def old_journal(self, journal: dict[str, Any]) -> dict[str, Any]:
        return {
            "sender_code_id": sms.SENDER,
            "sender_code": "55501",
            "list_id": sms.LIST,
            "list_name": "Marketing",
            "pending_on_subscribe": False,
            "fields": [
                {
                    "name": match["name"],
                    "field_id": match["field_id"],
                    "field_name": match["field_name"],
                    "data_type": match["data_type"],
                    "max_length": match["max_length"],
                }
                for match in journal["fields"]
            ],
            "opted_out": 0,
        }


HARNESSES: dict[str, Callable[[Emulator, Path], Harness]] = {
    "listrak_email": EmailHarness,
    "listrak_sms": SmsHarness,
}


@pytest.fixture(params=sorted(HARNESSES))
def destination(
    request: pytest.FixtureRequest,
    emulator: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Harness:
    monkeypatch.setenv(helpers.SECRET_ENV, EMAIL_CLIENT[1])
    monkeypatch.setenv(sms.SECRET_ENV, SMS_CLIENT[1])
    return HARNESSES[request.param](emulator, tmp_path / "project")


def _rows(numbers: range, **changes: Any) -> list[Row]:
    return [Row(n, n, f"First{n}", **changes) for n in numbers]


def _succeeded(outcome: UnitOutcome) -> None:
    assert outcome.status == "succeeded", (outcome.status, outcome.error)
    assert outcome.exit_code == 0


def test_a_duplicate_key_reaches_listrak_once_from_the_lowest_customer(
    destination: Harness,
) -> None:
    destination.seed()
    destination.set_rows([*_rows(range(1, 4)), Row(9, 1, "Twin", raw=destination.other_form(1))])

    outcome = destination.sync()

    _succeeded(outcome)
    assert destination.members() == {destination.key(n) for n in (1, 2, 3)}
    assert destination.names()[destination.key(1)] == "First1"
    assert outcome.run is not None
    assert outcome.run.counts["rejected"] == 1
    found = destination.outcomes(outcome.run.run_id)
    assert found[destination.customer_key(9)].outcome == "duplicate"


def test_invalid_rows_are_reported_and_skipped_and_good_rows_go_through(
    destination: Harness,
) -> None:
    destination.seed()
    destination.set_rows(
        [
            *_rows(range(1, 4)),
            Row(7, 7, "Bad", raw=destination.invalid),
            Row(8, 8, "Nobody", raw=None),
        ]
    )

    outcome = destination.sync()

    _succeeded(outcome)
    assert destination.members() == {destination.key(n) for n in (1, 2, 3)}
    assert outcome.run is not None
    assert outcome.run.counts["rejected"] == 2
    found = destination.outcomes(outcome.run.run_id)
    bad, nobody = found[destination.customer_key(7)], found[destination.customer_key(8)]
    assert (bad.outcome, nobody.outcome) == ("invalid_key", "missing_key")
    assert destination.invalid in (bad.reason or "")
    assert bad.field == nobody.field is not None  # the key's column
    # Rejected rows never become steps: the next run has nothing to send.
    again = destination.sync()
    assert again.plan is not None
    assert again.plan.steps == []


def test_leavers_leave_and_stayers_are_untouched(destination: Harness) -> None:
    destination.seed()
    destination.set_rows(_rows(range(1, 11)))
    _succeeded(destination.sync())
    destination.set_rows(_rows(range(1, 10)) + _rows(range(10, 11), in_audience=False))

    outcome = destination.sync()

    _succeeded(outcome)
    assert outcome.plan is not None
    assert outcome.plan.counts["leave"] == 1
    assert outcome.plan.removals == 1
    assert destination.members() == {destination.key(n) for n in range(1, 10)}


def test_permanent_refusals_are_declined_reported_and_not_sent_again(
    destination: Harness,
) -> None:
    destination.seed(refused=[9])
    destination.set_rows([*_rows(range(1, 3)), Row(9, 9, "Gone")])

    outcome = destination.sync()

    _succeeded(outcome)
    assert outcome.run is not None
    assert outcome.run.counts["declined"] == 1
    assert outcome.run.counts["failed"] == 0
    refused = destination.outcomes(outcome.run.run_id)[destination.key(9)]
    assert refused.outcome == destination.refusal
    assert any("declined by Listrak for good" in w for w in outcome.warnings), outcome.warnings
    assert destination.members() == {destination.key(1), destination.key(2)}
    again = destination.sync()
    _succeeded(again)
    assert again.plan is not None
    assert again.plan.steps == []


class Interrupted(Exception):
    """Raised at a checkpoint: the run stops there as a crash would stop it."""


def _interrupt_at(prefix: str) -> Callable[[str], None]:
    """A checkpoint callback stopping the run at the first point starting with ``prefix``."""
    reached: list[str] = []

    def stop(point: str) -> None:
        if point.startswith(prefix) and not reached:
            reached.append(point)
            raise Interrupted(point)

    return stop


def _changed(destination: Harness) -> None:
    """Relative to people 1..10: 1..2 change, 10 leaves, 11..14 enter."""
    destination.set_rows(
        _rows(range(1, 3), attribute="Platinum")
        + _rows(range(3, 10))
        + _rows(range(10, 11), in_audience=False)
        + _rows(range(11, 15))
    )


def _check_changed(destination: Harness) -> None:
    assert destination.members() == {destination.key(n) for n in [*range(1, 10), *range(11, 15)]}
    held = destination.attributes()
    assert [held[destination.key(n)] for n in (1, 2, 3, 14)] == [
        "Platinum",
        "Platinum",
        "Gold",
        "Gold",
    ]


def _resumed(destination: Harness, stopped: UnitOutcome) -> UnitOutcome:
    """The next sync: it finishes the stopped run, then finds nothing left to do."""
    assert stopped.run is not None
    with destination.store() as store:
        done = {s.step_id: s.result for s in store.steps(stopped.run.run_id) if s.status == "done"}
    finished = destination.sync()
    _succeeded(finished)
    assert [r.run_id for r in finished.resumed] == [stopped.run.run_id]
    assert finished.resumed[0].status == "succeeded"
    assert finished.plan is not None
    assert finished.plan.steps == []
    with destination.store() as store:
        steps = store.steps(stopped.run.run_id)
    assert all(s.status == "done" for s in steps)
    # Steps done before the interruption were not done again.
    assert {s.step_id: s.result for s in steps if s.step_id in done} == done
    return finished


@pytest.mark.parametrize("point", ["done:", "before_commit"])
def test_an_interrupted_run_is_finished_by_the_next_sync(destination: Harness, point: str) -> None:
    destination.seed()
    destination.set_rows(_rows(range(1, 11)))
    _succeeded(destination.sync())
    _changed(destination)

    with on_checkpoint(_interrupt_at(point)):
        stopped = destination.sync()

    assert stopped.status == "failed"
    assert "Interrupted" in (stopped.error or "")
    _resumed(destination, stopped)
    _check_changed(destination)


def test_a_run_journaled_by_the_previous_version_resumes(destination: Harness) -> None:
    """A run stopped before an upgrade journaled its target as an untyped dict: the upgraded
    sync reads it into the destination's target model and finishes the run."""
    destination.seed()
    destination.set_rows(_rows(range(1, 11)))
    _succeeded(destination.sync())
    _changed(destination)
    with on_checkpoint(_interrupt_at("planned")):
        stopped = destination.sync()
    assert stopped.run is not None
    with destination.store() as store:
        journal = store.run(stopped.run.run_id).details["listrak"]
        store.update_run(
            stopped.run.run_id,
            details={"listrak": {**destination.old_journal(journal), "retired_key": 1}},
        )

    _resumed(destination, stopped)

    _check_changed(destination)
