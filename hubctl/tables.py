"""Listings that fit the terminal: tables whose columns are chosen by priority at the console's width
(80 columns included), long text wrapped rather than cut, ids never cut, a name shown with its id
beneath where names repeat; and `--json` (every field, for scripts) instead of the table.

A column that does not fit is left out and named under the table, never squeezed until its header
reads "imp…" and its values "枣庄市台儿庄区张山子化 …" (all alike).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

JSON_HELP = "Print every field as JSON instead of the table."
BORDER = 3  # a column's two spaces of padding and its separator; the table adds 1 more


@dataclass(frozen=True)
class Column:
    """One column of a listing: `key` of the row, shown under `header`.

    `keep`: 0 always shown; higher numbers are left out first when the terminal is narrow.
    `whole`: never wrapped (ids, codes, counts): as wide as its longest value. Otherwise the column
    wraps its text and needs at least `width` cells (default: its header's).
    `sub`: the key of a second value shown beneath the first, dimmed and whole (an id under a name).
    """

    key: str
    header: str
    keep: int = 0
    whole: bool = False
    width: int = 0
    justify: str = "left"
    sub: str = ""

    def need(self, rows: Sequence[Mapping[str, Any]]) -> int:
        least = max(cell_len(self.header), self.width)
        if self.whole:
            least = max([least, *(_longest_line(row.get(self.key)) for row in rows)])
        if self.sub:
            least = max([least, *(_longest_line(row.get(self.sub)) for row in rows)])
        return least


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _longest_line(value: Any) -> int:
    return max((cell_len(line) for line in _text(value).splitlines()), default=0)


def fit(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]], width: int) -> list[Column]:
    """The columns shown at `width` cells, in their order: by priority (`keep`), then from the left,
    while the table with its borders fits. The first column is always shown."""
    chosen: set[int] = set()
    used = 1
    for index in sorted(range(len(columns)), key=lambda i: (columns[i].keep, i)):
        need = columns[index].need(rows) + BORDER
        if not chosen or used + need <= width:
            chosen.add(index)
            used += need
    return [column for i, column in enumerate(columns) if i in chosen]


def widths(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]], width: int) -> list[int]:
    """Each column's width at `width` cells: what it needs, and what is left shared among the columns
    that wrap, each up to its longest line (rich, left to itself, widens a wrapping column to its
    text and crops the table at the terminal's edge)."""
    given = [c.need(rows) for c in columns]
    natural = [
        max([given[i], *(_longest_line(row.get(c.key)) for row in rows)]) for i, c in enumerate(columns)
    ]
    spare = width - 1 - BORDER * len(columns) - sum(given)
    while spare > 0:
        short = [i for i, c in enumerate(columns) if not c.whole and given[i] < natural[i]]
        if not short:
            break
        widest = max(short, key=lambda i: natural[i] - given[i])
        given[widest] += 1
        spare -= 1
    return given


def table(
    title: str, columns: Sequence[Column], rows: Sequence[Mapping[str, Any]], width: int
) -> tuple[Table, list[Column]]:
    """The rich table of the columns that fit, and the columns left out."""
    shown = fit(columns, rows, width)
    # a cell of two lines (a name and its id) reads best with a rule between the rows
    result = Table(title=title, show_lines=any(c.sub for c in shown))
    for column, cells_wide in zip(shown, widths(shown, rows, width), strict=True):
        result.add_column(
            column.header,
            justify=column.justify,  # type: ignore[arg-type]
            no_wrap=column.whole,
            overflow="fold",
            width=cells_wide,
        )
    for row in rows:
        cells: list[Text] = []
        for column in shown:
            cell = Text(_text(row.get(column.key)))
            if column.sub and row.get(column.sub):
                cell.append("\n" + _text(row.get(column.sub)), style="dim")
            cells.append(cell)
        result.add_row(*cells)
    return result, [c for c in columns if c not in shown]


def show(
    title: str,
    columns: Sequence[Column],
    rows: Sequence[Mapping[str, Any]],
    as_json: bool = False,
    data: Any = None,
    console: Console | None = None,
    empty: str = "",
) -> None:
    """Prints the listing: `data` (default: the rows) as JSON, or the table that fits the terminal."""
    if as_json:
        print_json(list(rows) if data is None else data)
        return
    console = console or Console()
    if not rows and empty:
        console.print(f"{title}: {empty}")
        return
    rendered, hidden = table(title, columns, rows, console.width)
    console.print(rendered)
    if hidden:
        names = ", ".join(c.header for c in hidden)
        console.print(f"[dim]not shown at {console.width} columns: {names} (--json has every field)[/dim]")


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
