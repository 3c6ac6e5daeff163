"""Reference checks that need no warehouse: names that must exist, types that must match, and
the rule that one SMS list is managed by one audience only."""

from __future__ import annotations

from collections import defaultdict

from ..config.credentials import ListrakCredential, SftpCredential
from ..config.destinations import (
    DataApiDestination,
    EmailDestination,
    EventDestination,
    FilesDestination,
    SmsDestination,
)
from .loader import Project, did_you_mean
from .problems import Problem
from .yaml_marks import Path

__all__ = ["reference_problems"]


def reference_problems(project: Project) -> list[Problem]:
    """Every broken reference in the project, at the place it is written."""
    problems: list[Problem] = []
    problems += _credential_references(project)
    problems += _campaign_references(project)
    problems += _sms_list_owners(project)
    problems += _schedule_references(project)
    return problems


def _missing(project: Project, path: Path, kind: str, name: str, known: list[str]) -> Problem:
    hint = did_you_mean(name, known) if known else f"define it under `{kind}s:`"
    return project.problem(path, f"no {kind} named {name!r}", hint)


_Wanted = type[ListrakCredential | SftpCredential]


def _references(project: Project) -> list[tuple[str, str, Path, _Wanted]]:
    """(user, credential name, where it is written, credential type needed) for every section
    that names a credential."""
    found: list[tuple[str, str, Path, _Wanted]] = []
    for name, destination in project.config.destinations.items():
        base: Path = ("destinations", name)
        user = f"destination {name!r} ({destination.type})"
        if isinstance(destination, FilesDestination):
            if destination.sftp is not None and destination.sftp.credential is not None:
                path: Path = (*base, "sftp", "credential")
                found.append((user, destination.sftp.credential, path, SftpCredential))
        elif isinstance(destination, DataApiDestination):
            if destination.credential is not None:
                path = (*base, "credential")
                found.append((user, destination.credential, path, ListrakCredential))
        elif isinstance(destination, EventDestination):
            path = (*base, "credential")
            found.append((user, destination.credential, path, ListrakCredential))
            for mapping, rule in destination.mappings.items():
                if rule.action.credential is not None:
                    path = (*base, "mappings", mapping, "action", "credential")
                    found.append((user, rule.action.credential, path, ListrakCredential))
        else:
            path = (*base, "credential")
            found.append((user, destination.credential, path, ListrakCredential))
    for name, source in project.config.sources.items():
        user = f"source {name!r} ({source.type})"
        path = ("sources", name, "credential")
        found.append((user, source.credential, path, ListrakCredential))
    if project.config.forget is not None:
        path = ("forget", "credential")
        found.append(("forget", project.config.forget.credential, path, ListrakCredential))
    return found


def _credential_references(project: Project) -> list[Problem]:
    problems: list[Problem] = []
    credentials = project.config.credentials
    for user, reference, path, wanted in _references(project):
        credential = credentials.get(reference)
        if credential is None:
            problems.append(_missing(project, path, "credential", reference, list(credentials)))
            continue
        if not isinstance(credential, wanted):
            kind = "sftp" if wanted is SftpCredential else "listrak"
            problems.append(
                project.problem(
                    path,
                    f"{user} needs a {kind} credential, but {reference!r} is {credential.type}",
                )
            )
    return problems


def _campaign_references(project: Project) -> list[Problem]:
    config = project.config
    problems: list[Problem] = []
    segments = list(config.segments)
    destinations = config.destinations
    for name, campaign in config.campaigns.items():
        base: Path = ("campaigns", name)
        if campaign.segment not in config.segments:
            problems.append(
                _missing(project, (*base, "segment"), "segment", campaign.segment, segments)
            )
        for i, excluded in enumerate(campaign.exclude):
            if excluded not in config.segments:
                problems.append(
                    _missing(project, (*base, "exclude", i), "segment", excluded, segments)
                )
            elif excluded == campaign.segment:
                problems.append(
                    project.problem(
                        (*base, "exclude", i),
                        f"campaign {name!r} excludes its own segment (the audience would be empty)",
                    )
                )
        used: set[str] = set()
        refused: set[str] = set()  # reported below; their attribute edits are moot
        for g, group in enumerate(campaign.groups):
            for d, target in enumerate(group.destinations):
                path: Path = (*base, "groups", g, "destinations", d)
                destination = destinations.get(target)
                if destination is None:
                    problems.append(
                        _missing(project, path, "destination", target, list(destinations))
                    )
                    continue
                if isinstance(destination, FilesDestination | DataApiDestination):
                    what = "it sends data sets (`listrak-sync export`)"
                elif isinstance(destination, EventDestination):
                    what = "it receives events (`listrak-sync serve`)"
                else:
                    used.add(target)
                    continue
                refused.add(target)
                problems.append(
                    project.problem(
                        path,
                        f"destination {target!r} is {destination.type}: {what}, "
                        "not campaign audiences",
                        "campaign groups go to listrak_email or listrak_sms destinations",
                    )
                )
        for target, edits in campaign.destinations.items():
            path = (*base, "destinations", target)
            if target in refused:
                continue
            if target not in used:
                problems.append(
                    project.problem(
                        path,
                        f"attribute edits for {target!r}, which no group of {name!r} sends to",
                        did_you_mean(target, used) if used else None,
                        key=True,
                    )
                )
                continue
            destination = destinations[target]
            assert isinstance(destination, EmailDestination | SmsDestination)
            defaults = {a.column for a in destination.attributes} | {
                a.target for a in destination.attributes
            }
            for i, removed in enumerate(edits.remove_attributes):
                if removed not in defaults:
                    problems.append(
                        project.problem(
                            (*path, "remove_attributes", i),
                            f"{removed!r} is not one of {target!r}'s default attributes",
                            did_you_mean(removed, defaults),
                        )
                    )
    return problems


def _sms_list_owners(project: Project) -> list[Problem]:
    """One audience per SMS list: two campaigns (or two separately sent groups) on one list
    would unsubscribe each other's members on every run."""
    config = project.config
    owners: dict[tuple[str, int], list[tuple[str, Path]]] = defaultdict(list)
    for name, campaign in config.campaigns.items():
        seen_in_campaign: set[str] = set()
        for g, group in enumerate(campaign.groups):
            for d, target in enumerate(group.destinations):
                destination = config.destinations.get(target)
                if not isinstance(destination, SmsDestination):
                    continue
                if campaign.send_groups == "together" and target in seen_in_campaign:
                    continue  # all groups together are one audience
                seen_in_campaign.add(target)
                where: Path = ("campaigns", name, "groups", g, "destinations", d)
                label = name if campaign.send_groups == "together" else f"{name}/{group.name}"
                owners[(destination.credential, destination.list_id)].append((label, where))
    problems: list[Problem] = []
    for (_, list_id), users in owners.items():
        if len(users) < 2:
            continue
        first = users[0][0]
        for label, where in users[1:]:
            problems.append(
                project.problem(
                    where,
                    f"SMS list {list_id} is already managed by {first!r}; {label!r} would "
                    "manage it too",
                    "one audience per SMS list: give each campaign its own list, or send the "
                    "groups together (send_groups: together)",
                )
            )
    return problems


def _schedule_references(project: Project) -> list[Problem]:
    """What schedules name must exist: campaigns, sources, export destinations, alert channels
    and the schedules ``after:`` follows (without a cycle)."""
    config = project.config
    exportable = [
        n
        for n, d in config.destinations.items()
        if isinstance(d, FilesDestination | DataApiDestination)
    ]
    wanted: list[tuple[str, str, list[str]]] = [
        ("campaigns", "campaign", list(config.campaigns)),
        ("pulls", "source", list(config.sources)),
        ("exports", "destination", exportable),
        ("alerts", "alert channel", list(config.alerts.channels)),
        ("after", "schedule", list(config.schedules)),
    ]
    problems: list[Problem] = []
    for name, schedule in config.schedules.items():
        for key, kind, known in wanted:
            for i, target in enumerate(getattr(schedule, key)):
                if target in known:
                    continue
                path: Path = ("schedules", name, key, i)
                if key == "exports" and target in config.destinations:
                    problems.append(
                        project.problem(
                            path,
                            f"destination {target!r} is not exported "
                            "(exports name listrak_files or listrak_data destinations)",
                        )
                    )
                elif key == "alerts":
                    hint = (
                        did_you_mean(target, known)
                        if known
                        else "define it under `alerts.channels`"
                    )
                    problems.append(
                        project.problem(path, f"no alert channel named {target!r}", hint)
                    )
                else:
                    problems.append(_missing(project, path, kind, target, known))
        if schedule.forget and config.forget is None:
            problems.append(
                project.problem(
                    ("schedules", name, "forget"),
                    "`forget: true` but the project has no `forget:` section",
                    "add one saying where deletion requests come from (docs: guides/forget.md)",
                )
            )
    problems += _after_cycles(project)
    return problems


def _after_cycles(project: Project) -> list[Problem]:
    """``after:`` chains that come back to where they started would never run (or run forever)."""
    follows = {name: list(s.after) for name, s in project.config.schedules.items()}
    problems: list[Problem] = []
    reported: set[frozenset[str]] = set()
    for start in follows:
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        while stack:
            current, trail = stack.pop()
            for i, previous in enumerate(follows.get(current, [])):
                if previous == start:
                    cycle = frozenset(trail)
                    if cycle not in reported:
                        reported.add(cycle)
                        loop = " → ".join([*trail, start])
                        problems.append(
                            project.problem(
                                ("schedules", current, "after", i),
                                f"`after:` goes round in a circle: {loop}",
                                "one schedule of the circle needs a cron or an interval",
                            )
                        )
                elif previous in follows and previous not in trail:
                    stack.append((previous, [*trail, previous]))
    return problems
