"""`hubctl routing set|show`: which departments supervise an industry in a town ('*' for any)."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from hubctl.rpc import service

app = typer.Typer(help="The routing table: industry × town → supervising departments.", no_args_is_help=True)


@app.command("set")
def set_rule(
    industry: str = typer.Argument(..., help="Industry, or '*' for any."),
    town: str = typer.Argument(..., help="Town, or '*' for any."),
    departments: list[str] | None = typer.Argument(None, help="Department codes; none removes the rule."),  # noqa: B008
) -> None:
    """Set a rule; the enterprises it matches are re-assigned at once (manual additions stay)."""
    with service("registry", timeout=600) as registry:
        answer = registry.set_routing_rule(industry, town, departments or [])
    target = ", ".join(answer["departments"]) or "(rule removed)"
    typer.echo(f"{industry} × {town} → {target}; {answer['reassigned']} enterprises re-assigned")


@app.command("apply")
def apply() -> None:
    """Re-route every enterprise by the current table (only differences are recorded)."""
    with service("registry", timeout=600) as registry:
        answer = registry.apply_routing()
    typer.echo(f"{answer['checked']} enterprises checked, {answer['reassigned']} re-assigned")


@app.command("show")
def show(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show the rules. An enterprise gets the departments of every matching rule, plus its town's office."""
    with service("registry") as registry:
        table_data = registry.routing_table()
    if as_json:
        typer.echo(json.dumps(table_data, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Routing table (version {table_data['version']})")
    for column in ("industry", "town", "departments"):
        table.add_column(column)
    for rule in table_data["rules"]:
        table.add_row(rule["industry"], rule["town"], ", ".join(rule["departments"]))
    Console().print(table)
