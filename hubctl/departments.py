"""`hubctl departments add|update|remove|list`: the supervising departments and how their platforms
are reached."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from departments import subscriptions
from hubctl.rpc import service
from hubctl.tables import JSON_HELP, Column, show
from services.backbone.settings import Settings

app = typer.Typer(help="Supervising departments (安监, 住建, 镇安委会办公室 …).", no_args_is_help=True)


RECEIPT_KEY_HELP = (
    "SM2 public key (hex) the platform signs receipts with; receipts must verify under it."
    " Left out: the key of the platform's first receipt is kept (pinned)."
)


def _platform(
    endpoint: str | None, tls_ca: Path | None, credentials_ref: str | None, receipt_public_key: str | None
) -> dict[str, Any]:
    given: dict[str, Any] = {
        "endpoint": endpoint,
        "credentials_ref": credentials_ref,
        "receipt_public_key": receipt_public_key,
    }
    if tls_ca is not None:
        given["tls_ca"] = tls_ca.read_text(encoding="utf-8")
    return {k: v for k, v in given.items() if v is not None}


@app.command("add")
def add(
    code: str = typer.Argument(..., help="Short code, e.g. AJJ-TEZ."),
    name: str = typer.Option(..., help="Full name, e.g. 台儿庄区应急管理局."),
    kind: str = typer.Option(
        ..., help="安监, 住建, 交通, 消防, 市场监管, 教育, 镇安委会办公室 … (or safety, …)."
    ),
    town: str = typer.Option("", help="The town of a town safety office (镇安委会办公室)."),
    endpoint: str = typer.Option("", help="host:port of the department platform's gRPC server."),
    tls_ca: Path | None = typer.Option(None, help="PEM file of the platform's CA."),  # noqa: B008
    credentials_ref: str = typer.Option(
        "",
        help="Where the adapter finds the token the department issued to the hub (sent as a bearer"
        " token): env:NAME or file:/path; vault:path is kept but this adapter cannot read it.",
    ),
    receipt_public_key: str = typer.Option("", help=RECEIPT_KEY_HELP),
) -> None:
    """Register a department (a town safety office at once supervises its whole town)."""
    fields = {
        "code": code,
        "name": name,
        "kind": kind,
        "town": town,
        **_platform(endpoint, tls_ca, credentials_ref, receipt_public_key),
    }
    with service("registry") as registry:
        answer = registry.add_department(fields)
    typer.echo(f"{answer['code']}: {'registered' if answer['created'] else 'already registered, unchanged'}")


@app.command("update")
def update(
    code: str = typer.Argument(...),
    name: str | None = typer.Option(None),
    endpoint: str | None = typer.Option(None),
    tls_ca: Path | None = typer.Option(None, help="PEM file of the platform's CA."),  # noqa: B008
    credentials_ref: str | None = typer.Option(None),
    receipt_public_key: str | None = typer.Option(None, help=RECEIPT_KEY_HELP),
) -> None:
    """Change a department's name, how its platform is reached, or the key its receipts verify under
    (then `hubctl deliveries replay --department CODE` sends again what an untrusted receipt parked)."""
    changes = _platform(endpoint, tls_ca, credentials_ref, receipt_public_key) | (
        {"name": name} if name is not None else {}
    )
    with service("registry") as registry:
        answer = registry.update_department(code, changes)
    typer.echo(f"{answer['code']}: version {answer['version']}")


@app.command("remove")
def remove(code: str = typer.Argument(..., help="The department's code.")) -> None:
    """Remove a department: it gets no more filings, leaves every routing rule and the enterprises it
    supervised (a town office its town); the filings it was sent stay, and its code is not reused.
    Its AMQP subscription's broker user, if it has one, is deleted."""
    settings = Settings.from_env()
    with service("registry", timeout=600) as registry:
        answer = registry.remove_department(code)
    if not answer["removed"]:
        typer.echo(f"{answer['code']}: removed already")
        return
    typer.echo(f"{answer['code']}: removed; {answer['reassigned']} enterprises re-assigned")
    if any(s.department == answer["code"] for s in subscriptions.listed(settings)):
        subscriptions.remove(settings, answer["code"])
        typer.echo(f"{answer['code']}: broker user {subscriptions.user_of(settings, answer['code'])} deleted")


COLUMNS = (
    Column("code", "code", whole=True),
    Column("name", "name", width=12),
    Column("kind", "kind", keep=1, whole=True),
    Column("endpoint", "endpoint", keep=1, whole=True),
    Column("town", "town", keep=2, whole=True),
    Column("receipt", "receipt key", keep=3, whole=True),
    Column("tls", "tls", keep=4, whole=True),
    Column("credentials_ref", "credentials", keep=4, whole=True),
)


@app.command("list")
def list_departments(
    all_: bool = typer.Option(False, "--all", help="Include removed departments."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List the registered departments."""
    with service("registry") as registry:
        departments = registry.list_departments(all_)
    rows = [
        {
            **d,
            "code": f"{d['code']} (removed)" if d.get("removed") else d["code"],
            "tls": "CA" if d["tls_ca"] else "",
            "endpoint": d["endpoint"] or "(pull)",
            "receipt": "registered" if d.get("receipt_public_key") else "(first receipt's)",
        }
        for d in departments
    ]
    show("Departments", COLUMNS, rows, as_json, data=departments, empty="none registered")
