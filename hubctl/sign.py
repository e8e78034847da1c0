"""`hubctl sign …`: the enterprise's signer (hubsign) under the operator's command line."""

from __future__ import annotations

import typer

from hubsign.cli import main


def sign(ctx: typer.Context) -> None:
    """SM2 key files, signatures and filing as an enterprise does it (`hubctl sign --help`)."""
    raise typer.Exit(main(list(ctx.args)))


SETTINGS = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}
