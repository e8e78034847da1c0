"""`hubctl parked list|replay|clear`: messages a consumer could not apply, and items a periodic scan set
aside (a danger whose deadline could not be read, a town whose report could not be made)."""

from __future__ import annotations

from uuid import UUID

import typer
from rich.console import Console
from rich.table import Table

from hubctl.stores import available_services, store
from services.backbone.replay import parked_messages, replay
from services.backbone.set_aside import set_aside_id, set_aside_items
from services.backbone.settings import Settings
from services.backbone.stream import handlers_of

app = typer.Typer(help="Messages parked after bounded retries.", no_args_is_help=True)


@app.command("list")
def list_parked(
    service: str = typer.Option("", help="Only this consuming service."),
    all_: bool = typer.Option(False, "--all", help="Include replayed ones."),
) -> None:
    """List parked messages with their errors."""
    settings = Settings.from_env()
    table = Table(title="Parked messages")
    for column in ("service", "id", "from", "type", "status", "error"):
        table.add_column(column)
    for name in [service] if service else available_services():
        with store(name, settings) as hub_app:
            for p in parked_messages(hub_app, include_replayed=all_):
                table.add_row(
                    name,
                    str(p.id),
                    f"{p.upstream} #{p.key}",
                    p.envelope.get("type", "?"),
                    p.status,
                    p.error[:100],
                )
    Console().print(table)
    items = Table(title="Items set aside by a periodic scan")
    for column in ("service", "scan", "item", "times", "status", "error"):
        items.add_column(column)
    for name in [service] if service else available_services():
        with store(name, settings) as hub_app:
            for item in set_aside_items(hub_app, include_cleared=all_):
                items.add_row(name, item.scan, item.key, str(item.times), item.status, item.error[:100])
    Console().print(items)


@app.command("clear")
def clear_set_aside(
    service: str = typer.Argument(..., help="The service whose scan set the item aside."),
    scan: str = typer.Argument(..., help="The scan (deadlines, re-filing, monthly-report)."),
    key: str = typer.Argument(..., help="The item, as `hubctl parked list` shows it."),
) -> None:
    """Let a scan try an item again (after the cause was fixed)."""
    with store(service, Settings.from_env()) as hub_app:
        item = hub_app.find(set_aside_id(scan, key))
        if item is None or item.status != "set_aside":
            typer.echo(f"{service}: {scan} has no item {key} set aside")
            raise typer.Exit(1)
        item.clear("cleared by an operator")
        hub_app.save(item)
    typer.echo(f"{service}: {scan} will try {key} again")


@app.command("replay")
def replay_parked(
    ids: list[str] | None = typer.Argument(None, help="Parked message ids; none: every parked message."),  # noqa: B008
    service: str = typer.Option("", help="Only this consuming service."),
) -> None:
    """Apply parked messages again (each at most once), oldest first."""
    settings = Settings.from_env()
    failures = 0
    for name in [service] if service else available_services():
        handlers = handlers_of(name)
        if handlers is None:
            continue
        with store(name, settings) as hub_app:
            wanted = [UUID(i) for i in ids] if ids else [p.id for p in parked_messages(hub_app)]
            known = {p.id for p in parked_messages(hub_app, include_replayed=True)}
            for parked_id in wanted:
                if parked_id not in known:
                    continue
                result = replay(hub_app, handlers, parked_id)
                failures += result["result"].startswith("failed")
                typer.echo(f"{name} {result['id']}: {result['result']}")
    raise typer.Exit(1 if failures else 0)
