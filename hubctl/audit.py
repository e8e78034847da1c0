"""`hubctl audit …`: history, time travel, tamper evidence (read-only on stores); proofs and bundles
are in hubctl/audit_proofs.py."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from uuid import UUID

import typer

from hubctl import audit_views as views
from services.audit.anchors import AnchorError, from_folder, from_platform
from services.audit.keys import audit_key_file, audit_public_key
from services.audit.reader import AuditReader
from services.audit.timeline import chain_status, history, state_as_of
from services.audit.worker import AuditWorker
from services.backbone.settings import Settings
from services.kernel.tree_heads import Anchor, fingerprint

app = typer.Typer(help="Audit the event history: replay, time travel, tamper evidence.", no_args_is_help=True)
ENTERPRISE = typer.Option(..., "--enterprise", help="The enterprise id (UUID).")
JSON = typer.Option(False, "--json", help="Print JSON.")
ANCHORS = typer.Option(  # noqa: B008
    None,
    "--anchors",
    help="Heads kept outside the hub: a folder (or file) of them, a platform's HOST:PORT, or a "
    "registered department's code (its platform is asked). Repeat for several.",
)


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


def anchors_from(specs: list[str] | None) -> list[Anchor]:
    """The anchors each --anchors names (a folder or file, HOST:PORT, or a department's code)."""
    found: list[Anchor] = []
    for spec in specs or []:
        try:
            if Path(spec).exists():
                found += from_folder(Path(spec))
            elif ":" in spec:
                found += from_platform(spec, spec)
            else:
                from hubctl.rpc import service

                with service("registry") as registry:
                    record = registry.get_department(spec)
                if not record.get("endpoint"):
                    raise AnchorError(
                        f"department {spec} has no platform endpoint: give its heads as a folder"
                    )
                found += from_platform(record["endpoint"], spec, record.get("tls_ca") or "")
        except AnchorError as error:
            raise typer.BadParameter(str(error), param_hint="--anchors") from None
    return found


@app.command("history")
def history_command(enterprise: str = ENTERPRISE, as_json: bool = JSON) -> None:
    """Every event about the enterprise across all stores, in time order, with its status in the log."""
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
            "chain": status.get((e.store, e.notification_id), "unsigned"),
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
    anchors: list[str] = ANCHORS,
    workers: int = typer.Option(0, help="Worker processes (0: one per CPU)."),
    as_json: bool = JSON,
) -> None:
    """Prove every store an append-only extension of each head the hub signed and each anchor given:
    write-time links, recorded leaves, roots. Exit 1 naming what and where, on any finding."""
    kept = anchors_from(anchors)
    settings = Settings.from_env()
    reader = AuditReader(settings)
    try:
        with views.bars(_heads(reader), "verifying") as advance:
            reports = reader.verify(service or None, workers or _cpus(settings), advance, kept)
    finally:
        reader.close()
    if as_json:
        data = [{**r.__dict__, "findings": [f.__dict__ for f in r.findings], "ok": r.ok} for r in reports]
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        views.verification(reports, len(kept))
    raise typer.Exit(0 if all(r.ok for r in reports) else 1)


def _cpus(settings: Settings) -> int:
    return settings.audit_verify_workers or (os.cpu_count() or 1)


@app.command("sign")
def sign_command() -> None:
    """Put every store's linked events into its tree and sign a head of each now (on demand)."""
    worker = AuditWorker(Settings.from_env())
    try:
        for head in worker.run_once(sign_now=True):
            typer.echo(f"{head.name} signed: root {head.root_hash[:16]}…, up to #{head.position}")
        for store, state in worker.builder.states.items():
            if state.halted is not None:
                typer.echo(f"{store}: the tree stops at {state.halted.describe()}", err=True)
    finally:
        worker.close()


app.command("checkpoint", hidden=True)(sign_command)  # the command's earlier name


@app.command("heads")
def heads_command(
    service: list[str] = typer.Option(None, "--service", help="Only these stores."),  # noqa: B008
    out: Path = typer.Option(None, "--out", help="Write them to this folder (an anchors folder)."),  # noqa: B008
) -> None:
    """The signed tree heads the audit recorded, as JSON (what every department was sent)."""
    reader = AuditReader(Settings.from_env())
    try:
        audit = reader.audit
        stores = service or list(reader.sources())
        heads = {s: [h.head.as_dict() for h in audit.heads(s)] if audit else [] for s in stores}
    finally:
        reader.close()
    if out is None:
        typer.echo(json.dumps(heads, ensure_ascii=False, indent=1))
        return
    out.mkdir(parents=True, exist_ok=True)
    for store, found in heads.items():
        (out / f"hub-{store}.json").write_text(json.dumps(found, indent=1), encoding="utf-8")
    typer.echo(f"written {sum(len(h) for h in heads.values())} heads to {out}")


@app.command("key")
def key_command() -> None:
    """The hub's audit public key (pin it when checking heads, proofs and bundles) and its fingerprint."""
    settings = Settings.from_env()
    public = audit_public_key(settings)
    typer.echo(f"{public}\nfingerprint {fingerprint(public)}\nkey file {audit_key_file(settings)}")
