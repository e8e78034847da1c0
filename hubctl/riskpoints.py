"""`hubctl riskpoints card|imports`: a risk point's warning card; bulk imports and their counts."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from hubctl.stores import store
from services.backbone.errors import DomainError
from services.backbone.settings import Settings
from services.riskpoints import card as cards

app = typer.Typer(help="Risk points: warning cards and bulk imports.", no_args_is_help=True)
COLUMNS = ("received", "accepted", "created", "changed", "unchanged", "rejected")


def _enterprise_name(settings: Settings, enterprise_id: str) -> str:
    try:
        with store("registry", settings) as registry:
            return str(registry.get(enterprise_id).get("name", ""))  # type: ignore[attr-defined]
    except (DomainError, LookupError, AttributeError):
        return ""


@app.command("card")
def card(
    risk_point_id: str = typer.Argument(..., help="The risk point's id."),
    format_: str = typer.Option("html", "--format", help="html or pdf."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here instead of stdout."),  # noqa: B008
) -> None:
    """Render a risk point's post warning card (岗位风险告知卡)."""
    settings = Settings.from_env()
    try:
        with store("riskpoints", settings) as riskpoints:
            point = riskpoints.read(risk_point_id)  # type: ignore[attr-defined]
        name = _enterprise_name(settings, point["enterprise_id"])
        _, content, filename = cards.render(point, format_, name)
    except DomainError as error:
        typer.echo(f"refused: {error}", err=True)
        raise typer.Exit(1) from None
    if output is None:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
    else:
        output.write_bytes(content)
        typer.echo(f"wrote {output} ({len(content)} bytes; suggested name {filename})", err=True)


def _table(imports: list[dict[str, Any]]) -> Table:
    table = Table(title="Risk point imports (newest first)")
    for column in ("import", "enterprise", "status", "pages", *COLUMNS, "updated"):
        table.add_column(column, justify="right" if column in (*COLUMNS, "pages") else "left")
    for item in imports:
        table.add_row(
            item["import_id"],
            item["enterprise_id"][:8],
            item["status"],
            str(item["pages"]),
            *(str(item[c]) for c in COLUMNS),
            item["updated_at"][:19],
        )
    return table


@app.command("imports")
def imports(
    limit: int = typer.Option(20, help="How many of the latest imports."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
    watch: bool = typer.Option(False, "--watch", help="Refresh every second while an import runs."),
) -> None:
    """Show bulk imports with their counts, as saved with each page (live while they run)."""
    settings = Settings.from_env()
    console = Console()
    while True:
        with store("riskpoints", settings) as riskpoints:
            found = riskpoints.imports(limit)  # type: ignore[attr-defined]
        if as_json:
            typer.echo(json.dumps(found, ensure_ascii=False, indent=2))
        else:
            console.print(_table(found))
        if not watch or all(i["status"] == "finished" for i in found):
            return
        time.sleep(1.0)
