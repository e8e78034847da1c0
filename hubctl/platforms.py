"""`hubctl platform …`: run and steer reference department platforms, read what they received (filings,
and the hub's signed tree heads they keep as anchors)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from departments.reference import control, server
from departments.reference.heads import HeadStore, check_against_hub
from departments.reference.store import read_inbox
from hubctl.tables import JSON_HELP, Column, show
from services.backbone.settings import Settings

app = typer.Typer(help="Reference department platforms (the template a department starts from).")


def data_dir(code: str) -> Path:
    return Settings.from_env().runtime_dir / "platforms" / code


@app.command("start")
def start(
    code: str = typer.Argument(..., help="The department's code."),
    address: str = typer.Option("127.0.0.1:50071", help="Where to listen."),
    hub_token_file: Path | None = typer.Option(  # noqa: B008
        None,
        help="File with the token the hub must present (register it as the department's credentials_ref).",
    ),
) -> None:
    """Run a reference platform in the foreground."""
    args = ["--code", code, "--address", address, "--data-dir", str(data_dir(code))]
    if hub_token_file is not None:
        args += ["--hub-token-file", str(hub_token_file)]
    raise typer.Exit(server.main(args))


@app.command("mode")
def mode(
    code: str,
    set_to: str = typer.Argument(..., metavar="accept|reject|slow|down"),
    reason: str = typer.Option(control.Behaviour.reason, help="Reason given when rejecting."),
    delay: float = typer.Option(2.0, help="Seconds a slow platform takes."),
) -> None:
    """Tell a running reference platform to accept, reject, be slow or be down."""
    control.write(data_dir(code), control.Behaviour(set_to, reason, delay))
    typer.echo(f"{code}: {set_to}")


@app.command("key")
def key(code: str) -> None:
    """The SM2 public key a reference platform signs its receipts with (made on first use), to register
    with `hubctl departments update CODE --receipt-public-key KEY`."""
    typer.echo(server.platform_key(data_dir(code)).public_key_hex)


INBOX = (
    Column("enterprise_name", "enterprise (credit code)", width=18, sub="uscc"),
    Column("version", "version", whole=True, justify="right"),
    Column("answer", "answer", whole=True),
    Column("received", "received", keep=1, whole=True),
    Column("times_delivered", "times", keep=2, whole=True, justify="right"),
    Column("reason", "reason", keep=2, width=12),
)


HEADS = (
    Column("store", "store", whole=True),
    Column("head", "head", whole=True, justify="right"),
    Column("size", "size", whole=True, justify="right"),
    Column("verdict", "verdict", whole=True),
    Column("signed", "signed", keep=1, whole=True),
    Column("root", "root", keep=2, whole=True),
    Column("detail", "detail", keep=2, width=12),
)


@app.command("inbox")
def inbox(code: str, as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """What a reference platform has received and answered."""
    found = [dict(row) for row in read_inbox(data_dir(code) / "inbox.sqlite")]
    rows = [
        {
            **row,
            "answer": row["outcome"].removeprefix("OUTCOME_").lower(),
            "received": row["received_at"][:19].replace("T", " "),
        }
        for row in found
    ]
    show(f"{code}: received filings", INBOX, rows, as_json, data=found, empty="nothing received")


def _held(code: str) -> HeadStore:
    path = server.heads_path(data_dir(code))
    if not path.exists():
        typer.echo(f"{code}: no tree heads received yet", err=True)
        raise typer.Exit(1)
    return HeadStore(path)


@app.command("heads")
def heads(
    code: str,
    out: Path = typer.Option(None, "--out", help="Write them to this folder as anchors (CODE.json)."),  # noqa: B008
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """The hub's signed tree heads a reference platform holds, and what it found when it kept each."""
    store = _held(code)
    try:
        kept = store.verdicts()
    finally:
        store.close()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        document = {"holder": code, "heads": [h.as_dict() for h, _, _ in kept]}
        (out / f"{code}.json").write_text(json.dumps(document, indent=1), encoding="utf-8")
        typer.echo(f"written {len(kept)} heads to {out / f'{code}.json'}")
        return
    rows = [
        {
            "store": head.store,
            "head": head.sequence,
            "size": head.tree_size,
            "root": head.root_hash[:16],
            "signed": head.signed_at[:19].replace("T", " "),
            "verdict": verdict.lower(),
            "detail": detail,
        }
        for head, verdict, detail in kept
    ]
    data = [{**h.as_dict(), "verdict": v, "detail": d} for h, v, d in kept]
    show(f"{code}: tree heads held", HEADS, rows, as_json, data=data, empty="none")


@app.command("check-heads")
def check_heads(
    code: str,
    audit: str = typer.Option(Settings.from_env().audit_address, "--audit", help="The hub's audit endpoint."),
) -> None:
    """Check the heads a reference platform holds against the hub's latest (as a CT monitor does): each
    store's latest head must be extended by the hub's; exit 1 naming the store if not."""
    store = _held(code)
    try:
        results = check_against_hub(store, audit)
    finally:
        store.close()
    for name, ok, what in results:
        typer.echo(f"{'OK  ' if ok else 'FAIL'} {name}: {what}")
    raise typer.Exit(0 if results and all(ok for _, ok, _ in results) else 1)
