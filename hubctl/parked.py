"""`hubctl parked list|replay`: messages a consumer could not apply; `hubctl parked set-aside|clear`:
items a periodic scan set aside (a danger whose deadline could not be read, a register that could not
be re-compiled, a town whose report could not be made)."""

from __future__ import annotations

from uuid import UUID

import typer

from hubctl.stores import available_services, consuming_services, existing, handlers_for, store, work_for
from hubctl.tables import JSON_HELP, Column, show
from services.backbone.replay import parked_messages, replay
from services.backbone.set_aside import set_aside_id, set_aside_items
from services.backbone.settings import Settings

app = typer.Typer(help="Messages parked after bounded retries.", no_args_is_help=True)


COLUMNS = (
    Column("type", "type", width=12, sub="id"),
    Column("service", "service", whole=True),
    Column("status", "status", keep=1, whole=True),
    Column("from", "from", keep=1, whole=True),
    Column("error", "error", keep=2, width=16),
)


@app.command("list")
def list_parked(
    service: str = typer.Option("", help="Only this consuming service."),
    all_: bool = typer.Option(False, "--all", help="Include replayed ones."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List parked messages with their errors (each type over its id, for `parked replay ID`)."""
    settings = Settings.from_env()
    rows = []
    for name in [service] if service else consuming_services():
        with existing(name, settings) as hub_app:
            for p in parked_messages(hub_app, include_replayed=all_) if hub_app is not None else []:
                rows.append(
                    {
                        "service": name,
                        "id": str(p.id),
                        "upstream": p.upstream,
                        "key": p.key,
                        "from": f"{p.upstream} #{p.key}",
                        "type": p.envelope.get("type", "?"),
                        "status": p.status,
                        "error": p.error,
                    }
                )
    shown = [{**r, "error": r["error"][:160]} for r in rows]  # the whole error: --json
    show("Parked messages", COLUMNS, shown, as_json, data=rows, empty="none")


@app.command("replay")
def replay_parked(
    ids: list[str] | None = typer.Argument(None, help="Parked message ids; none: every parked message."),  # noqa: B008
    service: str = typer.Option("", help="Only this consuming service."),
) -> None:
    """Apply parked messages again (each at most once), oldest first."""
    settings = Settings.from_env()
    failures = 0
    for name in [service] if service else consuming_services():
        handlers = handlers_for(name)
        if handlers is None:
            continue
        with store(name, settings) as hub_app:
            wanted = [UUID(i) for i in ids] if ids else [p.id for p in parked_messages(hub_app)]
            known = {p.id for p in parked_messages(hub_app, include_replayed=True)}
            for parked_id in wanted:
                if parked_id not in known:
                    continue
                result = replay(hub_app, handlers, parked_id, work_for(name))
                failures += result["result"].startswith("failed")
                typer.echo(f"{name} {result['id']}: {result['result']}")
    raise typer.Exit(1 if failures else 0)


SET_ASIDE = (
    Column("item", "item", width=14, sub="scan"),
    Column("service", "service", whole=True),
    Column("times", "times", keep=1, whole=True, justify="right"),
    Column("status", "status", keep=1, whole=True),
    Column("error", "error", keep=2, width=16),
)


@app.command("set-aside")
def list_set_aside(
    service: str = typer.Option("", help="Only this service."),
    all_: bool = typer.Option(False, "--all", help="Include cleared ones."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List the items periodic scans set aside, with their reasons (each over its scan)."""
    settings = Settings.from_env()
    rows = []
    for name in [service] if service else available_services():
        with existing(name, settings) as hub_app:
            for item in set_aside_items(hub_app, include_cleared=all_) if hub_app is not None else []:
                rows.append(
                    {
                        "service": name,
                        "scan": item.scan,
                        "item": item.key,
                        "times": item.times,
                        "status": item.status,
                        "error": item.error,
                    }
                )
    show("Items set aside by a periodic scan", SET_ASIDE, rows, as_json, empty="none")


@app.command("clear")
def clear_set_aside(
    service: str = typer.Argument(..., help="The service whose scan set the item aside."),
    scan: str = typer.Argument(..., help="The scan (deadlines, re-filing, monthly-report)."),
    key: str = typer.Argument(..., help="The item, as `hubctl parked set-aside` shows it."),
) -> None:
    """Let a scan try an item again (after its cause was fixed)."""
    with store(service, Settings.from_env()) as hub_app:
        item = hub_app.find(set_aside_id(scan, key))
        if item is None or item.status != "set_aside":
            typer.echo(f"{service}: {scan} has no item {key} set aside")
            raise typer.Exit(1)
        item.clear("cleared by an operator")
        hub_app.save(item)
    typer.echo(f"{service}: {scan} will try {key} again")
