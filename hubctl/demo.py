"""`hubctl demo`: a small town files through the whole hub, as its ERP systems would."""

from __future__ import annotations

import json
import time
from pathlib import Path

import grpc
import typer
from hub.v1 import enterprise_pb2 as epb
from hub.v1 import enterprise_pb2_grpc, filing_pb2_grpc, riskpoint_pb2_grpc
from hub.v1 import filing_pb2 as fpb
from hub.v1 import riskpoint_pb2 as rpb
from rich.console import Console
from rich.progress import Progress

from departments.reference.store import read_inbox
from gateway.auth import registration_token
from hubctl import demo_town
from hubctl.rpc import service
from hubctl.tables import Column, show
from services.backbone.settings import Settings
from services.kernel import signatures

STATES = {v: k.removeprefix("DELIVERY_STATE_").lower() for k, v in fpb.DeliveryState.items()}
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


def demo(
    enterprises: int = typer.Option(12, help="How many enterprises file."),
    gateway: str = typer.Option("", help="The gateway (default HUB_GATEWAY_ADDRESS or 127.0.0.1:50051)."),
    timeout: float = typer.Option(120.0, help="Seconds to wait for every department's answer."),
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
        filing_pb2_grpc.FilingServiceStub(channel),
    )
    setup_departments(settings)
    token = (("x-hub-registration-token", registration_token(settings)),)
    keys_dir = settings.runtime_dir / "demo" / "keys"
    filed: list[tuple[str, tuple[tuple[str, str], ...], int]] = []
    with Progress(console=console) as progress:
        task = progress.add_task("filing", total=enterprises)
        for n in range(enterprises):
            name, metadata, version = file_one(n, stubs, token, keys_dir)
            filed.append((name, metadata, version))
            progress.advance(task)
    deadline = time.monotonic() + timeout
    rows = []
    for n, (_name, metadata, version) in enumerate(filed):
        ledger = wait_answered(stubs[2], metadata, version, deadline)
        rows.append(demo_town.summary_row(n, version, ledger["hash"], ledger["states"]))
    show(f"{demo_town.TOWN}: registers filed", SUMMARY, rows, console=console)
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


def file_one(
    n: int, stubs: tuple, token: tuple, keys_dir: Path
) -> tuple[str, tuple[tuple[str, str], ...], int]:
    enterprises, riskpoints, filings = stubs
    profile = demo_town.profile(n)
    answer = enterprises.RegisterEnterprise(
        epb.RegisterEnterpriseRequest(
            profile=profile, idempotency_key=f"demo-{profile.unified_social_credit_code}"
        ),
        metadata=token,
    )
    metadata = (("x-hub-key-id", answer.key_id), ("x-hub-secret", answer.secret))
    keys = load_or_make_keys(keys_dir / f"{profile.unified_social_credit_code}.json")
    for role, enum in (
        ("legal_representative", epb.SIGNING_ROLE_LEGAL_REPRESENTATIVE),
        ("enterprise_seal", epb.SIGNING_ROLE_ENTERPRISE_SEAL),
    ):
        enterprises.RegisterSigningKey(
            epb.RegisterSigningKeyRequest(role=enum, public_key=keys[role].public_key_hex), metadata=metadata
        )
    for _ in riskpoints.ImportRiskPoints(
        iter([rpb.ImportRiskPointsRequest(items=demo_town.risk_points(n))]), metadata=metadata
    ):
        pass
    compiled = wait_compiled(filings, metadata)
    data = compiled.canonical_document
    request = fpb.SubmitRegisterRequest(
        version=compiled.version.version,
        legal_representative_signature=signatures.sign(keys["legal_representative"].private_key_hex, data),
        enterprise_seal_signature=signatures.sign(keys["enterprise_seal"].private_key_hex, data),
    )
    for _ in range(100):  # the signing keys travel through the registry's stream: may come last
        try:
            filings.SubmitRegister(request, metadata=metadata)
            break
        except grpc.RpcError as error:
            if "no public key" not in (error.details() or ""):  # type: ignore[attr-defined]
                raise
            time.sleep(0.2)
    return profile.name, metadata, int(compiled.version.version)


def wait_compiled(filings: filing_pb2_grpc.FilingServiceStub, metadata: tuple) -> fpb.CompileRegisterResponse:
    """Compiles once the filing service has caught up with the keys and risk points just sent."""
    for _ in range(300):
        try:
            compiled = filings.CompileRegister(fpb.CompileRegisterRequest(), metadata=metadata)
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.NOT_FOUND:  # type: ignore[attr-defined]
                raise
            time.sleep(0.2)
            continue
        document = json.loads(compiled.canonical_document)
        keyed = document["supervising_departments"] and document["risk_points"]
        if keyed and compiled.version.status == fpb.FILING_STATUS_COMPILED:
            return compiled
        if compiled.version.status == fpb.FILING_STATUS_SUBMITTED and keyed:
            return compiled
        time.sleep(0.2)
    raise typer.Exit(1)


def wait_answered(
    filings: filing_pb2_grpc.FilingServiceStub, metadata: tuple, version: int, deadline: float
) -> dict:
    final = {fpb.DELIVERY_STATE_ACKNOWLEDGED, fpb.DELIVERY_STATE_REJECTED, fpb.DELIVERY_STATE_PARKED}
    while True:
        status = filings.GetFilingStatus(
            fpb.GetFilingStatusRequest(version=version), metadata=metadata
        ).version
        states = {d.department_code: STATES[d.state] for d in status.ledger}
        if all(d.state in final for d in status.ledger) or time.monotonic() > deadline:
            return {"hash": status.document_hash, "states": states}
        time.sleep(0.3)


def load_or_make_keys(path: Path) -> dict[str, signatures.KeyPair]:
    """The demo enterprise's signing keys (kept on its side: here, a file of the demo's own)."""
    if path.exists():
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {role: signatures.KeyPair(**pair) for role, pair in raw.items()}
    keys = {role.value: signatures.generate_keypair() for role in signatures.Signer}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                r: {"private_key_hex": k.private_key_hex, "public_key_hex": k.public_key_hex}
                for r, k in keys.items()
            }
        ),
        encoding="utf-8",
    )
    path.chmod(0o600)
    return keys
