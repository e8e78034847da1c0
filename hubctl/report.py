"""`hubctl report monthly --town T --month YYYY-MM [--out DIR]`: the monthly report (每月通报)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from hubctl.stores import store
from services.backbone.errors import DomainError
from services.backbone.settings import Settings
from services.notifications import config
from services.notifications.report import publish

app = typer.Typer(help="Reports.", no_args_is_help=True)


@app.command("monthly")
def monthly(
    town: str = typer.Option(..., "--town", help="The town, as enterprises register it."),
    month: str = typer.Option(..., "--month", help="YYYY-MM"),
    out: Path | None = typer.Option(None, "--out", help="Also write the HTML and PDF here."),  # noqa: B008
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the figures; publish nothing."),
) -> None:
    """Produce and publish a town's monthly report: HTML and PDF under HUB_RUNTIME_DIR/reports/ (and
    --out), a MonthlyReport.Published event (Revised when the figures changed since), announced to the
    town office and the supervising departments."""
    settings = Settings.from_env()
    try:
        with store("notifications", settings) as app_:
            if dry_run:
                typer.echo(
                    json.dumps(
                        publish.build(app_, config.load(settings.hub_env), town, month),
                        ensure_ascii=False,
                        indent=2,
                    )
                )
                return
            summary = publish.publish(app_, settings, config.load(settings.hub_env), town, month, out)
    except DomainError as error:
        typer.echo(f"refused: {error}", err=True)
        raise typer.Exit(1) from None
    totals = summary["totals"]
    typer.echo(
        f"{town} {month}: revision {summary['revision']}"
        f" ({'published' if summary['published'] else 'unchanged, not published again'});"
        f" filed {totals['filed']}, late {totals['late']}, missing {totals['missing']}"
        f" of {totals['enterprises']};"
        f" open dangers {totals['open_dangers']} (overdue {totals['overdue_dangers']})"
    )
    for suffix, info in summary["files"].items():
        typer.echo(f"{suffix}: {info['path']}")
    if out is not None:
        for suffix in ("html", "pdf"):
            typer.echo(f"{suffix}: {out / publish.file_name(town, month, suffix)}")
