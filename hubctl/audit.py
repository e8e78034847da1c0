"""`hubctl audit …`: history, time travel, tamper evidence and offline bundles (read-only on stores)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from uuid import UUID

import typer

from hubctl import audit_views as views
from services.audit import bundle, offline
from services.audit.checkpoint import fingerprint
from services.audit.keys import audit_keypair
from services.audit.reader import AuditReader
from services.audit.timeline import chain_status, history, state_as_of
from services.audit.verify import default_workers
from services.audit.worker import AuditWorker
from services.backbone.settings import Settings

app = typer.Typer(help="Audit the event history: replay, time travel, tamper evidence.", no_args_is_help=True)
ENTERPRISE = typer.Option(..., "--enterprise", help="The enterprise id (UUID).")
JSON = typer.Option(False, "--json", help="Print JSON.")


def _enterprise(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise typer.BadParameter("must be a UUID", param_hint="--enterprise") from None


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("ISO 8601, e.g. 2016-09-15T12:00:00+08:00", param_hint="--as-of") from None
    return moment if moment.tzinfo else moment.astimezone()  # no offset: this machine's local time


def _heads(reader: AuditReader) -> dict[str, int]:
    return {s: a.recorder.max_notification_id() or 0 for s, a in reader.sources().items()}


@app.command("history")
def history_command(enterprise: str = ENTERPRISE, as_json: bool = JSON) -> None:
    """Every event about the enterprise across all stores, in time order, with its chain status."""
    reader = AuditReader(Settings.from_env())
    try:
        with views.bars(_heads(reader), "reading") as advance:
            events = history(reader.sources(), _enterprise(enterprise), advance)
        status = chain_status(reader.audit, events) if reader.audit else {}
    finally:
        reader.close()
    rows = [
        {
            "occurred_at": e.occurred_at.isoformat(),
            "service": e.store,
            "notification_id": e.notification_id,
            "type": e.type,
            "originator_id": e.originator_id,
            "version": e.originator_version,
            "chain": status.get((e.store, e.notification_id), "unchained"),
            "correlation_id": e.correlation_id,
            "payload": e.payload,
        }
        for e in events
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        views.history_table(enterprise, rows)


@app.command("replay")
def replay_command(
    enterprise: str = ENTERPRISE,
    as_of: str = typer.Option(..., "--as-of", help="ISO 8601; without an offset, local time."),
    as_json: bool = JSON,
) -> None:
    """The enterprise's state as it was at a moment: every aggregate replayed from its events ≤ T."""
    moment = _moment(as_of)
    reader = AuditReader(Settings.from_env())
    try:
        with views.bars(_heads(reader), "replaying") as advance:
            states = state_as_of(reader.sources(), _enterprise(enterprise), moment, advance)
    finally:
        reader.close()
    if as_json:
        data = [{**s.__dict__, "last_event_at": s.last_event_at.isoformat()} for s in states]
        document = {"as_of": moment.isoformat(), "aggregates": data}
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        views.state_tables(enterprise, moment.isoformat(), states)


@app.command("verify")
def verify_command(
    service: list[str] = typer.Option(None, "--service", help="Only these stores."),  # noqa: B008
    workers: int = typer.Option(0, help="Worker processes (0: one per CPU)."),
    as_json: bool = JSON,
) -> None:
    """Recompute every store's chain from its events against the signed checkpoints; exit 1 on any finding."""
    reader = AuditReader(Settings.from_env())
    try:
        with views.bars(_heads(reader), "verifying") as advance:
            reports = reader.verify(service or None, workers or default_workers(), advance)
    finally:
        reader.close()
    if as_json:
        data = [{**r.__dict__, "findings": [f.__dict__ for f in r.findings], "ok": r.ok} for r in reports]
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        views.verification(reports)
    raise typer.Exit(0 if all(r.ok for r in reports) else 1)


@app.command("checkpoint")
def checkpoint_command() -> None:
    """Chain every store up to now and sign a checkpoint of each (on demand)."""
    worker = AuditWorker(Settings.from_env())
    try:
        for result in worker.run_once(checkpoint_now=True):
            for c in result.checkpoints:
                typer.echo(f"{c.store}: checkpoint {c.sequence} at #{c.position} ({c.events} events)")
    finally:
        worker.close()


@app.command("key")
def key_command() -> None:
    """The hub's audit public key (pin it when verifying bundles) and its fingerprint."""
    public = audit_keypair(Settings.from_env().runtime_dir).public_key_hex
    typer.echo(f"{public}\nfingerprint {fingerprint(public)}")


@app.command("export")
def export_command(
    enterprise: str = ENTERPRISE,
    out: Path = typer.Option(..., "--out", help="The bundle to write (zip)."),  # noqa: B008
    checkpoint: bool = typer.Option(True, help="Chain and sign up to now first."),
) -> None:
    """An offline bundle of the enterprise's events with the chain links and signed checkpoints."""
    settings = Settings.from_env()
    worker = AuditWorker(settings)
    reader = AuditReader(settings)
    try:
        if checkpoint:
            worker.run_once(checkpoint_now=True)
        with views.bars(_heads(reader), "collecting") as advance:
            events = history(reader.sources(), _enterprise(enterprise), advance)
            done = bundle.export(worker.audit, events, enterprise, worker.chainer.keypair, out, advance)
    finally:
        reader.close()
        worker.close()
    views.stores_line(done.stores)
    if done.left_out:
        views.console.print(f"[yellow]{done.left_out} events newer than the last checkpoint were left out[/]")
    for warning in done.warnings:
        views.console.print(f"[red]{warning}[/]")
    views.console.print(f"written {out}")


@app.command("verify-bundle")
def verify_bundle_command(
    path: Path = typer.Argument(..., help="A bundle written by `hubctl audit export`."),  # noqa: B008
    public_key: str = typer.Option(None, "--public-key", help="The hub's audit public key to trust (hex)."),
) -> None:
    """Check a bundle offline (no database, no broker); exit 1 if anything does not match."""
    report = offline.verify_bundle(str(path), public_key)
    views.bundle_report(report)
    raise typer.Exit(0 if report.ok else 1)
