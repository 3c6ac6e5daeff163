"""The campaign form, as data: segment, exclusions, treatment groups by percent (each with its
destinations), a control group, and the ``campaigns:`` entry it writes.

Keys the form does not show (``dedupe``, per-destination attributes, ``attribute_table``) are
left in the project file as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from ..config.models import Campaign

__all__ = ["CampaignDraft", "GroupDraft"]

_GROUP = re.compile(r"^g(\d+)\.(name|percent|destinations)$")
_ATTRIBUTES = re.compile(r"^d\.([A-Za-z][A-Za-z0-9_\-]*)\.(add|remove)$")
_MAX_GROUPS = 20


@dataclass
class GroupDraft:
    name: str = ""
    percent: str = ""
    destinations: list[str] = field(default_factory=list)


@dataclass
class CampaignDraft:
    name: str = ""
    description: str = ""
    segment: str = ""
    exclude: list[str] = field(default_factory=list)
    salt: str = ""
    send_groups: str = "together"
    groups: list[GroupDraft] = field(default_factory=lambda: [GroupDraft()])
    control: str = ""  # percent, or empty for no control group
    # Per destination: attributes added ("column:Field, column") and removed ("Field, column").
    add: dict[str, str] = field(default_factory=dict)
    remove: dict[str, str] = field(default_factory=dict)
    base: str = ""
    original: str = ""

    @classmethod
    def of(cls, name: str, campaign: Campaign) -> CampaignDraft:
        return cls(
            name=name,
            description=campaign.description or "",
            segment=campaign.segment,
            exclude=list(campaign.exclude),
            salt=campaign.salt or "",
            send_groups=campaign.send_groups,
            groups=[
                GroupDraft(g.name, f"{g.percent:g}", list(g.destinations)) for g in campaign.groups
            ],
            control=f"{campaign.control.percent:g}" if campaign.control else "",
            add={
                target: ", ".join(
                    a.column if a.field is None or str(a.field) == a.column
                    else f"{a.column}:{a.field}"
                    for a in override.add_attributes
                )
                for target, override in campaign.destinations.items()
                if override.add_attributes
            },
            remove={
                target: ", ".join(override.remove_attributes)
                for target, override in campaign.destinations.items()
                if override.remove_attributes
            },
            original=name,
        )  # fmt: skip

    @classmethod
    def from_form(cls, form: FormData) -> CampaignDraft:
        """The form's state, with its buttons applied (``action``: ``add-group``,
        ``remove-group:N``)."""
        groups: dict[int, GroupDraft] = {}
        for key, value in form.multi_items():
            found = _GROUP.match(key)
            if not found or not isinstance(value, str) or int(found[1]) >= _MAX_GROUPS:
                continue
            group = groups.setdefault(int(found[1]), GroupDraft())
            if found[2] == "destinations":
                group.destinations.append(value)
            else:
                setattr(group, found[2], value.strip())
        add: dict[str, str] = {}
        remove: dict[str, str] = {}
        for key, value in form.multi_items():
            found = _ATTRIBUTES.match(key)
            if found and isinstance(value, str) and value.strip():
                (add if found[2] == "add" else remove)[found[1]] = value.strip()
        draft = cls(
            name=_text(form, "name"),
            description=_text(form, "description"),
            segment=_text(form, "segment"),
            exclude=[v for v in form.getlist("exclude") if isinstance(v, str) and v],
            salt=_text(form, "salt"),
            send_groups="separately" if form.get("send_groups") == "separately" else "together",
            groups=[groups[i] for i in sorted(groups)] or [GroupDraft()],
            control=_text(form, "control"),
            add=add,
            remove=remove,
            base=_text(form, "base"),
            original=_text(form, "original"),
        )
        action = _text(form, "action")
        if action == "add-group" and len(draft.groups) < _MAX_GROUPS:
            draft.groups.append(GroupDraft())
        elif action.startswith("remove-group:") and action[13:].isdigit():
            index = int(action[13:])
            if index < len(draft.groups) and len(draft.groups) > 1:
                del draft.groups[index]
        return draft

    def values(self, existing: Campaign | None = None) -> dict[str, Any]:
        """The ``campaigns:`` entry's keys this form sets (None: the key is removed).
        ``existing``: the campaign as the file has it, whose per-destination settings the form
        does not show (``attributes``, ``attribute_table``) are kept."""
        return {
            "description": self.description or None,
            "segment": self.segment,
            "exclude": self.exclude or None,
            "salt": self.salt or None,
            "send_groups": self.send_groups if self.send_groups != "together" else None,
            "groups": [
                {"name": g.name, "percent": _number(g.percent), "destinations": g.destinations}
                for g in self.groups
            ],
            "control": {"percent": _number(self.control)} if self.control else None,
            "destinations": self._destinations(existing),
        }

    def _destinations(self, existing: Campaign | None) -> dict[str, Any] | None:
        found: dict[str, Any] = {}
        if existing is not None:
            for target, override in existing.destinations.items():
                kept = override.model_dump(mode="json", exclude_defaults=True)
                kept.pop("add_attributes", None)
                kept.pop("remove_attributes", None)
                found[target] = kept
        for target in {*self.add, *self.remove}:
            entry = found.setdefault(target, {})
            if target in self.add:
                entry["add_attributes"] = [_attribute(a) for a in _items(self.add[target])]
            if target in self.remove:
                entry["remove_attributes"] = _items(self.remove[target])
        found = {target: entry for target, entry in found.items() if entry}
        return found or None

    def problems(self) -> list[str]:
        """What the campaign model says of the form's values (percents, names, shares)."""
        try:
            Campaign.model_validate({k: v for k, v in self.values().items() if v is not None})
        except ValidationError as exc:
            return [
                f"{'.'.join(str(p) for p in e['loc']) or 'campaign'}: "
                + str(e["msg"]).removeprefix("Value error, ")
                for e in exc.errors()
            ]
        return []


def _items(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _attribute(text: str) -> dict[str, str]:
    """``column:Field`` (or just ``column``: the field has the column's name)."""
    column, _, target = text.partition(":")
    return (
        {"column": column.strip(), "field": target.strip()}
        if target.strip()
        else {"column": column.strip()}
    )


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def _number(text: str) -> float | int | str:
    """A percent as typed: a whole number stays whole; text that is no number is kept for the
    model to refuse with its own message."""
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() else number
