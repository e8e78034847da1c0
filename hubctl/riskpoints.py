"""`hubctl riskpoints card|imports`: a risk point's warning card; bulk imports and their counts."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer
from rich.console import Console

from hubctl.stores import store
from hubctl.tables import JSON_HELP, Column, print_json, show
from services.backbone.errors import DomainError
from services.backbone.settings import Settings
from services.riskpoints import card as cards

app = typer.Typer(help="Risk points: warning cards and bulk imports.", no_args_is_help=True)


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


IMPORTS = (
    Column("import_id", "import", whole=True),
    Column("status", "status", whole=True),
    Column("received", "received", whole=True, justify="right"),
    Column("rejected", "rejected", whole=True, justify="right"),
    Column("accepted", "accepted", keep=1, whole=True, justify="right"),
    Column("pages", "pages", keep=2, whole=True, justify="right"),
    Column("created", "created", keep=2, whole=True, justify="right"),
    Column("changed", "changed", keep=2, whole=True, justify="right"),
    Column("unchanged", "unchanged", keep=2, whole=True, justify="right"),
    Column("enterprise_id", "enterprise", keep=3, whole=True),
    Column("updated", "updated", keep=3, whole=True),
)


@app.command("imports")
def imports(
    limit: int = typer.Option(20, help="How many of the latest imports."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    watch: bool = typer.Option(False, "--watch", help="Refresh every second while an import runs."),
) -> None:
    """Show bulk imports with their counts, as saved with each page (live while they run)."""
    settings = Settings.from_env()
    console = Console()
    while True:
        with store("riskpoints", settings) as riskpoints:
            found = riskpoints.imports(limit)  # type: ignore[attr-defined]
        if as_json:
            print_json(found)
        else:
            rows = [{**i, "updated": i["updated_at"][:19].replace("T", " ")} for i in found]
            show("Risk point imports (newest first)", IMPORTS, rows, console=console, empty="none yet")
        if not watch or all(i["status"] == "finished" for i in found):
            return
        time.sleep(1.0)
