"""Calling the hub's services from hubctl: nameko RPC, domain errors printed as field and rule."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import typer
from nameko.standalone.rpc import ClusterRpcProxy

from services.backbone import correlation
from services.backbone import rpc as _domain_errors  # noqa: F401 - domain errors cross intact
from services.backbone.amqp import CONNECTION_ERRORS
from services.backbone.errors import DomainError, ValidationError
from services.backbone.settings import Settings


@contextmanager
def service(name: str, timeout: float = 60.0) -> Iterator[Any]:
    """A proxy of one service; a refused command prints each field and rule and exits 1."""
    context = {"correlation_id": correlation.new()}
    settings = Settings.from_env()
    try:
        with ClusterRpcProxy(settings.nameko_config, timeout=timeout, context_data=context) as rpc:
            yield getattr(rpc, name)
    except (ConnectionError, *CONNECTION_ERRORS) as error:
        # the operator's mistake or a stopped broker, not a fault to trace: one line saying which
        where = urlsplit(settings.amqp_uri)
        typer.echo(
            f"the broker at {where.hostname}:{where.port or 5672} cannot be reached ({error}); "
            "is RabbitMQ running? (`make run` starts it)",
            err=True,
        )
        raise typer.Exit(2) from None
    except DomainError as error:
        pairs = error.violations if isinstance(error, ValidationError) else [(error.field, error.rule)]
        for field, rule in pairs:
            typer.echo(f"refused ({type(error).__name__}): {field}: {rule}", err=True)
        raise typer.Exit(1) from None
