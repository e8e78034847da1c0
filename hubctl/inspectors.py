"""`hubctl inspectors issue <department>`: the token a department's inspectors authenticate with."""

from __future__ import annotations

import typer

from hubctl.rpc import service

app = typer.Typer(help="Inspectors of supervising departments (InspectionService).", no_args_is_help=True)


@app.command("issue")
def issue(department: str = typer.Argument(..., help="The department's code, e.g. AJJ-TEZ.")) -> None:
    """Issue a new token for the department's inspectors; any earlier token stops working.

    The token is shown once; the hub keeps only its hash. Inspectors send it as metadata
    x-hub-department-token, with x-hub-department set to the department's code."""
    with service("dangers") as dangers:
        answer = dangers.issue_inspector_token(department)
    typer.echo(f"department: {answer['department']}")
    typer.echo(f"token: {answer['token']}")
