"""`hubctl parked list|replay`: messages a consumer could not apply."""

from __future__ import annotations

from uuid import UUID

import typer

from hubctl.stores import available_services, existing, store
from hubctl.tables import JSON_HELP, Column, show
from services.backbone.replay import parked_messages, replay
from services.backbone.settings import Settings
from services.backbone.stream import handlers_of

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
    for name in [service] if service else available_services():
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
