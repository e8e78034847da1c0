"""`hubctl enterprises …`: list enterprises, change supervisors by hand, record enforcement orders."""

from __future__ import annotations

import typer

from hubctl.rpc import service
from hubctl.tables import JSON_HELP, Column, show

app = typer.Typer(
    help="Enterprises: listings, manual supervisors, 停产整顿 / 关闭取缔 orders.", no_args_is_help=True
)


COLUMNS = (
    Column("name", "name (id)", width=12, sub="enterprise_id"),
    Column("status", "status", keep=1, whole=True),
    Column("supervisors", "supervisors", keep=1, width=12),
    Column("unified_social_credit_code", "credit code", keep=2, whole=True),
    Column("town", "town", keep=3, whole=True),
    Column("industry", "industry", keep=3, whole=True),
)


@app.command("list")
def list_enterprises(
    town: str = typer.Option("", help="Only this town."),
    department: str = typer.Option("", help="Only those this department supervises."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List enterprises by town and/or supervising department (each name over its id)."""
    with service("registry") as registry:
        found = registry.list_enterprises(town or None, department or None)
    show(f"Enterprises ({len(found)})", COLUMNS, found, as_json, empty="none")


@app.command("supervisor-add")
def supervisor_add(enterprise_id: str, department: str, actor: str = typer.Option("operator")) -> None:
    """Add a supervising department by hand (kept whatever the routing table says)."""
    with service("registry") as registry:
        answer = registry.add_supervisor(enterprise_id, department, actor)
    typer.echo(f"{enterprise_id}: {', '.join(answer['supervisors'])}")


@app.command("supervisor-remove")
def supervisor_remove(enterprise_id: str, department: str, actor: str = typer.Option("operator")) -> None:
    """Remove a department that was added by hand."""
    with service("registry") as registry:
        answer = registry.remove_supervisor(enterprise_id, department, actor)
    typer.echo(f"{enterprise_id}: {', '.join(answer['supervisors']) or '(none)'}")


def _order(action: str) -> None:
    def command(
        enterprise_id: str,
        reason: str = typer.Option(..., help="Why (the hidden danger, the finding)."),
        document_no: str = typer.Option(..., help="The order's document number (文书编号)."),
        authority: str = typer.Option(..., help="The issuing authority."),
        ordered_on: str = typer.Option(..., help="Date of the order, YYYY-MM-DD."),
    ) -> None:
        with service("registry") as registry:
            answer = getattr(registry, action)(enterprise_id, reason, document_no, authority, ordered_on)
        typer.echo(f"{answer['enterprise_id']}: {answer['status']} (version {answer['version']})")

    command.__doc__ = {
        "suspend": "Record a production suspension order (停产整顿).",
        "resume": "Record that a suspended enterprise may resume production.",
        "close": "Record a closure order (关闭取缔).",
    }[action]
    app.command(action)(command)


for _action in ("suspend", "resume", "close"):
    _order(_action)
