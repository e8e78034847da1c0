"""hubctl: the operator's command line for the hub."""

from __future__ import annotations

import typer

from hubctl import parked, status

app = typer.Typer(help="Operate the safety-risk filing hub.", no_args_is_help=True)
app.command("status")(status.status)
app.add_typer(parked.app, name="parked")


if __name__ == "__main__":
    app()
