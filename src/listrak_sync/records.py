"""Tables of records whose ids must stay whole (run ids, import ids): a user copies them into the
next command, so they are never cut or wrapped.

A table that fits the terminal is printed as a table with its id columns unwrapped; one that
does not (a narrow terminal, or output piped at 80 columns) becomes a compact list: the ids on
one line, the other columns below as ``name: value``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

__all__ = ["print_records"]


def print_records(
    console: Console,
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    ids: Collection[str],
    right: Collection[str] = (),
) -> None:
    """Print ``rows`` under ``columns``; the ``ids`` columns are never cut (see above)."""
    table = Table(title=title)
    for column in columns:
        table.add_column(
            column, no_wrap=column in ids, justify="right" if column in right else "left"
        )
    for row in rows:
        table.add_row(*row)
    natural = Measurement.get(console, console.options.update_width(100_000), table).maximum
    if natural <= console.width:
        console.print(table)
        return
    console.print(f"[bold]{title}[/]", highlight=False)
    for row in rows:
        cells = dict(zip(columns, row, strict=True))
        console.print(
            "  ".join(cells[c] for c in columns if c in ids), highlight=False, soft_wrap=True
        )
        rest = ", ".join(
            f"{c}: {' '.join(cells[c].split())}" for c in columns if c not in ids and cells[c]
        )
        console.print(f"    {rest}", highlight=False, soft_wrap=True)
