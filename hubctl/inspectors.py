"""`hubctl inspectors issue <department>`: the token a department's inspectors authenticate with."""

from __future__ import annotations

import typer

from hubctl.rpc import service

app = typer.Typer(help="Inspectors of supervising departments (InspectionService).", no_args_is_help=True)


@app.command("issue")
def issue(
    department: str = typer.Argument(..., help="The department's code, e.g. AJJ-TEZ."),
    scope: str = typer.Option(
        "",
        help="The role the token serves: inspections, feed (pulling filings) or town (TownService); "
        "none: every role without a token of its own.",
    ),
) -> None:
    """Issue a new token for one of the department's roles; that role's earlier token stops working
    (within a second), the other roles' tokens do not.

    The token is shown once; the hub keeps only its hash. The department sends it as metadata
    x-hub-department-token, with x-hub-department set to its code."""
    with service("dangers") as dangers:
        answer = dangers.issue_inspector_token(department, scope)
    typer.echo(f"department: {answer['department']}")
    typer.echo(f"scope: {answer['scope'] or 'all roles without a token of their own'}")
    typer.echo(f"token: {answer['token']}")
