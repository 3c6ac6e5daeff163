"""A Typer group whose sub-commands are imported only when one of them runs.

Every part of the product pulls in heavy libraries (DuckDB, Arrow, sqlglot, asyncssh, uvicorn),
so the root command lists each sub-command from a name and a help line, and imports the module
that implements it only once click resolves that name (to run it, show its help or complete it).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer import _click as click  # typer's own copy of click, the one its groups are built on
from typer.core import TyperCommand, TyperGroup

__all__ = ["LazyCommand", "LazyGroup"]


@dataclass(frozen=True)
class LazyCommand:
    """Where a sub-command lives: ``target`` is ``"package.module:attribute"``.

    The attribute is a command function or a ``typer.Typer`` sub-app. ``merge`` adds the sub-app's
    commands at the top level (as ``app.add_typer(sub_app)`` without a name does), and then
    ``name`` is one of those commands. ``help`` is the line shown in the parent's command list.
    """

    name: str
    help: str
    target: str
    merge: bool = False

    def load(self) -> click.Command:
        """Import the implementation and build the click command exactly as Typer would."""
        module_name, _, attribute = self.target.partition(":")
        implementation = getattr(importlib.import_module(module_name), attribute)
        holder = typer.Typer()
        # A callback keeps Typer from collapsing a one-command app into that command.
        holder.callback()(_no_options)
        if isinstance(implementation, typer.Typer):
            holder.add_typer(implementation, name=None if self.merge else self.name)
        else:
            holder.command(self.name)(implementation)
        return typer.main.get_group(holder).commands[self.name]


def _no_options() -> None:
    """Stand-in callback for the throw-away group that builds one lazy command."""


class _Listing(TyperCommand):
    """What the command list shows for a sub-command that has not been imported yet."""

    def invoke(self, ctx: click.Context) -> Any:  # pragma: no cover - resolve_command swaps it
        raise RuntimeError(f"lazy command {self.name!r} was invoked before it was loaded")


class LazyGroup(TyperGroup):
    """A root group listing ``lazy_commands`` by name and help, loading one when it is resolved."""

    lazy_commands: ClassVar[tuple[LazyCommand, ...]] = ()

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._lazy = {command.name: command for command in self.lazy_commands}
        for command in self.lazy_commands:
            # Listed in registration order; kept in ``commands`` so typo suggestions still work.
            self.commands.setdefault(command.name, _Listing(command.name, help=command.help))

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name is not None and isinstance(command, _Listing):
            command = self.commands[name] = self._lazy[name].load()
        return name, command, rest
