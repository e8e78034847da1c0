"""`hubctl routing set|show`: which departments supervise an industry in a town ('*' for any)."""

from __future__ import annotations

import typer

from hubctl.rpc import service
from hubctl.tables import JSON_HELP, Column, show

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


COLUMNS = (
    Column("industry", "industry", whole=True),
    Column("town", "town", whole=True),
    Column("departments", "departments", width=12),
)


@app.command("show")
def show_table(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Show the rules. An enterprise gets the departments of every matching rule, plus its town's office."""
    with service("registry") as registry:
        table_data = registry.routing_table()
    title = f"Routing table (version {table_data['version']})"
    show(title, COLUMNS, table_data["rules"], as_json, data=table_data, empty="no rules")
