"""`hubctl platform …`: run and steer reference department platforms, read what they received."""

from __future__ import annotations

from pathlib import Path

import typer

from departments.reference import control, server
from departments.reference.store import read_inbox
from hubctl.tables import JSON_HELP, Column, show
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


INBOX = (
    Column("enterprise_name", "enterprise (credit code)", width=18, sub="uscc"),
    Column("version", "version", whole=True, justify="right"),
    Column("answer", "answer", whole=True),
    Column("received", "received", keep=1, whole=True),
    Column("times_delivered", "times", keep=2, whole=True, justify="right"),
    Column("reason", "reason", keep=2, width=12),
)


@app.command("inbox")
def inbox(code: str, as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """What a reference platform has received and answered."""
    found = [dict(row) for row in read_inbox(data_dir(code) / "inbox.sqlite")]
    rows = [
        {
            **row,
            "answer": row["outcome"].removeprefix("OUTCOME_").lower(),
            "received": row["received_at"][:19].replace("T", " "),
        }
        for row in found
    ]
    show(f"{code}: received filings", INBOX, rows, as_json, data=found, empty="nothing received")
