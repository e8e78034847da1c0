"""`hubctl platform …`: run and steer reference department platforms, read what they received."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from departments.reference import control, server
from departments.reference.store import read_inbox
from services.backbone.settings import Settings

app = typer.Typer(help="Reference department platforms (the template a department starts from).")


def data_dir(code: str) -> Path:
    return Settings.from_env().runtime_dir / "platforms" / code


@app.command("start")
def start(
    code: str = typer.Argument(..., help="The department's code."),
    address: str = typer.Option("127.0.0.1:50071", help="Where to listen."),
    hub_token_file: Path | None = typer.Option(  # noqa: B008
        None,
        help="File with the token the hub must present (register it as the department's credentials_ref).",
    ),
) -> None:
    """Run a reference platform in the foreground."""
    args = ["--code", code, "--address", address, "--data-dir", str(data_dir(code))]
    if hub_token_file is not None:
        args += ["--hub-token-file", str(hub_token_file)]
    raise typer.Exit(server.main(args))


@app.command("mode")
def mode(
    code: str,
    set_to: str = typer.Argument(..., metavar="accept|reject|slow|down"),
    reason: str = typer.Option(control.Behaviour.reason, help="Reason given when rejecting."),
    delay: float = typer.Option(2.0, help="Seconds a slow platform takes."),
) -> None:
    """Tell a running reference platform to accept, reject, be slow or be down."""
    control.write(data_dir(code), control.Behaviour(set_to, reason, delay))
    typer.echo(f"{code}: {set_to}")


@app.command("key")
def key(code: str) -> None:
    """The SM2 public key a reference platform signs its receipts with (made on first use), to register
    with `hubctl departments update CODE --receipt-public-key KEY`."""
    typer.echo(server.platform_key(data_dir(code)).public_key_hex)


@app.command("inbox")
def inbox(code: str) -> None:
    """What a reference platform has received and answered."""
    table = Table(title=f"{code}: received filings")
    for column in ("enterprise", "credit code", "version", "outcome", "reason", "received", "times"):
        table.add_column(column)
    for row in read_inbox(data_dir(code) / "inbox.sqlite"):
        table.add_row(
            row["enterprise_name"],
            row["uscc"],
            str(row["version"]),
            row["outcome"].removeprefix("OUTCOME_").lower(),
            row["reason"],
            row["received_at"][:19],
            str(row["times_delivered"]),
        )
    Console().print(table)
