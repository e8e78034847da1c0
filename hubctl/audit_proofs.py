"""`hubctl audit prove | verify-proof | export | verify-bundle`: what an auditor takes away and checks
without the hub (the commands join `hubctl audit`)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from hubctl import audit_views as views
from hubctl.audit import ENTERPRISE, _enterprise, _heads, anchors_from, app
from services.audit import bundle, inclusion, offline
from services.audit.application import AuditApplication
from services.audit.proofs import ProofError, prove
from services.audit.reader import AuditReader
from services.audit.stores import audited_services
from services.audit.timeline import history
from services.audit.worker import AuditWorker
from services.backbone.settings import Settings

PUBLIC_KEY = typer.Option(None, "--public-key", help="The hub's audit public key to trust (hex).")


def _event(spec: str) -> tuple[str, int]:
    store, sep, number = spec.replace("#", ":").partition(":")
    if not sep or store not in audited_services() or not number.isdigit():
        raise typer.BadParameter(f"STORE:NOTIFICATION_ID, e.g. registry:42; stores: {audited_services()}")
    return store, int(number)


@app.command("prove")
def prove_command(
    event: str = typer.Argument(..., help="STORE:NOTIFICATION_ID, e.g. registry:42."),
    out: Path = typer.Option(None, "--out", help="Write the proof here (default: print it)."),  # noqa: B008
    head: int = typer.Option(None, "--head", help="Prove against this head (sequence); default: the latest."),
) -> None:
    """An inclusion proof of one event in a signed tree head, for a third party to check offline."""
    store, number = _event(event)
    reader = AuditReader(Settings.from_env())
    try:
        audit, source = reader.audit, reader.sources([store]).get(store)
        if not isinstance(audit, AuditApplication) or source is None:
            raise ProofError(f"{store}: no store, or no audit records yet")
        proof = prove(audit, source, store, number, head)
    except ProofError as error:
        typer.echo(f"no proof: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        reader.close()
    text = json.dumps(proof.as_dict(), ensure_ascii=False, indent=1)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"written {out}: leaf {proof.leaf_index} of {proof.tree_head.name}")


@app.command("verify-proof")
def verify_proof_command(
    path: Path = typer.Argument(..., help="A proof written by `hubctl audit prove`."),  # noqa: B008
    public_key: str = PUBLIC_KEY,
) -> None:
    """Check an inclusion proof offline; exit 1 if the event is not in the signed log as it says."""
    raise typer.Exit(inclusion.main([str(path), *(["--public-key", public_key] if public_key else [])]))


@app.command("export")
def export_command(
    enterprise: str = ENTERPRISE,
    out: Path = typer.Option(..., "--out", help="The bundle to write (zip)."),  # noqa: B008
    sign: bool = typer.Option(True, help="Put every linked event in the trees and sign heads first."),
    anchors: list[str] = typer.Option(  # noqa: B008
        None, "--anchors", help="Anchors to carry consistency proofs from (as `audit verify --anchors`)."
    ),
) -> None:
    """An offline bundle of the enterprise's events, every leaf of each store up to its signed head,
    and consistency proofs from the anchors to that head."""
    settings = Settings.from_env()
    kept = [a.head for a in anchors_from(anchors)]
    worker = AuditWorker(settings)
    reader = AuditReader(settings)
    try:
        if sign:
            worker.run_once(sign_now=True)
        with views.bars(_heads(reader), "collecting") as advance:
            events = history(reader.sources(), _enterprise(enterprise), advance)
        done = bundle.export(worker.audit, events, enterprise, worker.keypair, out, kept)
    finally:
        reader.close()
        worker.close()
    views.stores_line(done.stores)
    if done.left_out:
        views.console.print(
            f"[yellow]{done.left_out} events newer than the last signed head were left out[/]"
        )
    for warning in done.warnings:
        views.console.print(f"[red]{warning}[/]")
    views.console.print(f"written {out}")


@app.command("verify-bundle")
def verify_bundle_command(
    path: Path = typer.Argument(..., help="A bundle written by `hubctl audit export`."),  # noqa: B008
    public_key: str = PUBLIC_KEY,
    anchors: Path = typer.Option(None, "--anchors", help="A folder of heads a department kept."),  # noqa: B008
) -> None:
    """Check a bundle offline (no database, no broker); exit 1 if anything does not match."""
    kept = anchors_from([str(anchors)]) if anchors else None
    report = offline.verify_bundle(str(path), public_key, anchors=kept)
    views.bundle_report(report)
    raise typer.Exit(0 if report.ok else 1)
