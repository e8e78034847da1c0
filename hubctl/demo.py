"""`hubctl demo`: a small town files through the whole hub, as its ERP systems would."""

from __future__ import annotations

import os
import time
from pathlib import Path

import grpc
import typer
from hub.v1 import enterprise_pb2 as epb
from hub.v1 import enterprise_pb2_grpc, riskpoint_pb2_grpc
from hub.v1 import riskpoint_pb2 as rpb
from rich.console import Console
from rich.progress import Progress

from departments.reference.store import read_inbox
from gateway.auth import registration_token
from hubctl import demo_town
from hubctl.rpc import service
from hubctl.tables import Column, show
from hubsign import keyfile, workflow
from hubsign.client import Hub
from services.backbone.settings import Settings
from services.kernel import signatures

PLATFORMS = {
    "AJJ-TEZ": ("安监", "台儿庄区应急管理局", "HUB_PLATFORM_AJJ", "127.0.0.1:50071", ""),
    "TOWN-ZSZ": (
        "镇安委会办公室",
        "张山子镇安委会办公室",
        "HUB_PLATFORM_TOWN",
        "127.0.0.1:50072",
        demo_town.TOWN,
    ),
}


def setup_departments(settings: Settings) -> None:
    """The two reference platforms `make run` starts; every industry is supervised by 安监."""
    with service("registry") as registry:
        for code, (kind, name, env, default, town) in PLATFORMS.items():
            registry.add_department(
                {
                    "code": code,
                    "name": name,
                    "kind": kind,
                    "town": town,
                    "endpoint": settings.hub_env.get(env, default),
                }
            )
        registry.set_routing_rule("*", "*", ["AJJ-TEZ"])


def default_keys_dir() -> Path:
    """Where the demo's enterprises keep their private keys: the user's own data folder, never the hub's
    runtime folder (an enterprise's keys do not live with the hub)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "riskhub" / "demo-keys"


def demo(
    enterprises: int = typer.Option(12, help="How many enterprises file."),
    gateway: str = typer.Option("", help="The gateway (default HUB_GATEWAY_ADDRESS or 127.0.0.1:50051)."),
    timeout: float = typer.Option(120.0, help="Seconds to wait for every department's answer."),
    keys_dir: str = typer.Option(
        "", help="The enterprises' key files (default $XDG_DATA_HOME/riskhub/demo-keys, ~/.local/share/…)."
    ),
) -> None:
    """Register a town's enterprises, identify and grade their risk points, compile, sign and file
    their registers, and show what each department platform received and acknowledged."""
    settings = Settings.from_env()
    console = Console()
    address = gateway or settings.gateway_address
    channel = grpc.insecure_channel(address)
    grpc.channel_ready_future(channel).result(timeout=30)
    stubs = (
        enterprise_pb2_grpc.EnterpriseServiceStub(channel),
        riskpoint_pb2_grpc.RiskPointServiceStub(channel),
    )
    setup_departments(settings)
    token = (("x-hub-registration-token", registration_token(settings)),)
    keys = Path(keys_dir) if keys_dir else default_keys_dir()
    filed: list[tuple[str, Hub, int]] = []
    with Progress(console=console) as progress:
        task = progress.add_task("filing", total=enterprises)
        for n in range(enterprises):
            filed.append(file_one(n, address, stubs, token, keys))
            progress.advance(task)
    deadline = time.monotonic() + timeout
    rows = []
    for n, (_name, hub, version) in enumerate(filed):
        ledger = workflow.wait_answered(hub, version, max(0.0, deadline - time.monotonic()))
        states = {code: d["state"] for code, d in ledger["departments"].items()}
        rows.append(demo_town.summary_row(n, version, ledger["document_hash"], states))
        hub.close()
    show(f"{demo_town.TOWN}: registers filed", SUMMARY, rows, console=console)
    console.print(f"the enterprises' signing keys are in {keys}")
    for code in PLATFORMS:
        rows = read_inbox(settings.runtime_dir / "platforms" / code / "inbox.sqlite")
        accepted = sum(r["outcome"] == "OUTCOME_ACCEPTED" for r in rows)
        console.print(f"[bold]{code}[/bold] platform received {len(rows)} filings, acknowledged {accepted}")
    channel.close()


SUMMARY = (
    Column("enterprise", "enterprise (credit code)", width=18, sub="unified_social_credit_code"),
    Column("version", "version", whole=True, justify="right"),
    Column("departments", "departments", whole=True),
    Column("sm3", "SM3", keep=1, whole=True),
)


def file_one(n: int, address: str, stubs: tuple, token: tuple, keys_dir: Path) -> tuple[str, Hub, int]:
    """One enterprise's ERP: register, keys (kept on its side, in key files), risk points, then
    compile, sign and file with hubsign, as an integrator would."""
    enterprises, riskpoints = stubs
    profile = demo_town.profile(n)
    answer = enterprises.RegisterEnterprise(
        epb.RegisterEnterpriseRequest(
            profile=profile, idempotency_key=f"demo-{profile.unified_social_credit_code}"
        ),
        metadata=token,
    )
    hub = Hub(address, answer.key_id, answer.secret)
    keys = enterprise_keys(keys_dir / profile.unified_social_credit_code)
    for role, pair in keys.items():
        hub.register_key(role, pair.public_key_hex)
    items = demo_town.risk_points(n)
    for _ in riskpoints.ImportRiskPoints(
        iter([rpb.ImportRiskPointsRequest(items=items)]), metadata=hub.metadata
    ):
        pass
    register = workflow.compile_when_ready(hub, [item.external_id for item in items], wait=60)
    workflow.submit(hub, register.version, workflow.sign(register, keys), wait=30)
    return profile.name, hub, register.version


def enterprise_keys(folder: Path) -> dict[str, signatures.KeyPair]:
    """The enterprise's two key files (legal representative, seal), made on first use (0600)."""
    keys = {}
    for role in signatures.Signer:
        path = folder / f"{role.value}.pem"
        keys[role.value] = keyfile.load(path) if path.exists() else keyfile.generate(path)
    return keys
