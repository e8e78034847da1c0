"""Calling the hub's services from hubctl: nameko RPC, domain errors printed as field and rule."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from nameko.standalone.rpc import ClusterRpcProxy

from services.backbone import correlation
from services.backbone import rpc as _domain_errors  # noqa: F401 - domain errors cross intact
from services.backbone.errors import DomainError, ValidationError
from services.backbone.settings import Settings


@contextmanager
def service(name: str, timeout: float = 60.0) -> Iterator[Any]:
    """A proxy of one service; a refused command prints each field and rule and exits 1."""
    context = {"correlation_id": correlation.new()}
    try:
        with ClusterRpcProxy(Settings.from_env().nameko_config, timeout=timeout, context_data=context) as rpc:
            yield getattr(rpc, name)
    except DomainError as error:
        pairs = error.violations if isinstance(error, ValidationError) else [(error.field, error.rule)]
        for field, rule in pairs:
            typer.echo(f"refused ({type(error).__name__}): {field}: {rule}", err=True)
        raise typer.Exit(1) from None
